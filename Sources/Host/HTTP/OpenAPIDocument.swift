import Foundation

/// The OpenAPI 3.1 document of the running host, assembled at startup from the routes the host
/// serves itself and from the route metadata each plugin declares through the ABI (method, path,
/// access, summary, request and response JSON Schemas). A plugin adds routes, the document grows.
public enum OpenAPIDocument {
    public static func build(runtime: PluginRuntime) -> Data {
        var paths: [String: [String: Any]] = [:]
        func add(_ method: String, _ path: String, _ operation: [String: Any]) {
            paths[openAPIPath(path), default: [:]][method.lowercased()] = operation
        }
        for route in HostRoute.all where route.isAPI {
            let request = route.requestFields.map { fields -> [String: Any] in
                ["type": "object", "properties": Dictionary(uniqueKeysWithValues: fields.map { ($0, Self.fieldSchema($0)) }), "required": fields.sorted()]
            }
            add(route.method, route.path, operation(id: "host.\(route.method.lowercased())\(route.path)", tag: "host", summary: route.summary,
                                                    path: route.path, protected: route.isProtected, writes: route.method == "POST",
                                                    requestSchema: request, responseSchema: nil))
        }
        for registered in runtime.routes {
            let route = registered.route
            add(route.method, route.path, operation(
                id: "\(registered.plugin.id).\(route.method.lowercased())\(route.path)", tag: registered.plugin.id,
                summary: route.summary ?? "\(route.method) \(route.path)", path: route.path, protected: route.isProtected,
                writes: route.method != "GET", requestSchema: route.requestSchema.flatMap(parse), responseSchema: route.responseSchema.flatMap(parse)))
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": "Stelltron", "version": "1.0.0",
                     "description": "Peer-to-peer solar energy marketplace: the host's routes and every loaded plugin's."],
            "servers": [["url": "/"]],
            "tags": (["host"] + runtime.plugins.map(\.id)).map { ["name": $0] },
            "paths": paths,
            "components": [
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": ["Error": ["type": "object", "properties": ["error": ["type": "string"]], "required": ["error"]]],
            ],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// `/iot/nodes/:device_id` → `/iot/nodes/{device_id}`.
    static func openAPIPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            .joined(separator: "/")
    }

    /// The schema of a host route's request field: a Stellar address has a fixed length.
    private static func fieldSchema(_ name: String) -> [String: Any] {
        name == "wallet_address" ? ["type": "string", "minLength": 56, "maxLength": 56] : ["type": "string"]
    }

    private static func operation(id: String, tag: String, summary: String, path: String, protected: Bool, writes: Bool,
                                  requestSchema: Any?, responseSchema: Any?) -> [String: Any] {
        var operation: [String: Any] = [
            "operationId": id.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined(),
            "tags": [tag],
            "summary": summary,
            "responses": [
                "200": ["description": "OK", "content": ["application/json": ["schema": responseSchema ?? [:]]]],
                "default": ["description": "An error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
            ],
        ]
        let parameters = path.split(separator: "/").filter { $0.hasPrefix(":") }.map { name -> [String: Any] in
            ["name": String(name.dropFirst()), "in": "path", "required": true, "schema": ["type": "string"]]
        }
        if !parameters.isEmpty { operation["parameters"] = parameters }
        if protected { operation["security"] = [["bearerAuth": [String]()]] }
        if writes {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": requestSchema ?? ["type": "object"]]]]
        }
        return operation
    }

    private static func parse(_ schema: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(schema.utf8))
    }
}
