import Foundation
import Hummingbird
import NIOCore

/// The framework's own ceiling on this machine: Hummingbird with one constant route, no
/// middleware, no plugins — what `/health` would cost if the host added nothing. Serves until
/// killed; scripts/bench.sh measures it beside `/health` and the Gin peer.
enum BareServer {
    static func run(port: Int) async throws {
        let router = Router()
        router.get("/const") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
