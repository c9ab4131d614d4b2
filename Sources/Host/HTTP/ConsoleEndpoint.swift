import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/console`: one static page for operators and curious neighbours — plugins and slots, the live
/// event feed, the price and its five factors, the order book, the ledger, the DePIN network —
/// built from public routes only. The files ship with the host (`Sources/Host/Console`), read once.
enum ConsoleEndpoint {
    static func register(on router: Router<HostRequestContext>) {
        for (route, file, type) in [(HostRoute.console, "console.html", "text/html; charset=utf-8"),
                                    (HostRoute.consoleStyle, "console.css", "text/css; charset=utf-8"),
                                    (HostRoute.consoleScript, "console.js", "text/javascript; charset=utf-8")] {
            let bytes = load(file)
            router.on(route) { _, _ -> Response in
                guard let bytes else { throw APIError(.notFound, "the console's files are not installed with this host") }
                var headers = HTTPFields()
                headers[.contentType] = type
                headers[.cacheControl] = "no-cache"
                // Only this host's own files and routes: no third-party script can run here.
                headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
                headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
    }

    private static func load(_ file: String) -> [UInt8]? {
        guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Console"),
              let data = try? Data(contentsOf: url) else { return nil }
        return Array(data)
    }
}
