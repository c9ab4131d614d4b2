/// What a plugin's descriptor declares, copied into Swift values once at load.
public struct PluginDeclaration: Sendable, Equatable {
    public struct Route: Sendable, Equatable, Hashable {
        public var method: String
        public var path: String
        public var isProtected: Bool
        public var writes: Bool
        public var summary: String?
        public var requestSchema: String?
        public var responseSchema: String?
    }

    public struct Service: Sendable, Equatable {
        public var name: String
        public var writes: Bool
        public var summary: String?
    }

    public struct Slot: Sendable, Equatable {
        public var name: String
        public var revision: UInt32
    }

    /// ABI 1.1: where an operator may bind a plain C function (`[hooks]`).
    public struct HookPoint: Sendable, Equatable {
        public var name: String
        public var signature: HookSignature
        public var summary: String?
    }

    public struct Migration: Sendable, Equatable {
        public var id: String
        public var sql: String
        /// The same step in PostgreSQL's dialect, for what the host cannot translate (ABI 1.2).
        public var postgresSQL: String? = nil
    }

    public var id: String
    public var version: String
    public var description: String
    public var abiMajor: UInt32
    public var abiMinor: UInt32
    public var descriptorSize: UInt32
    public var swiftCompiler: String
    public var tickIntervalMilliseconds: UInt32
    public var routes: [Route]
    public var services: [Service]
    public var slots: [Slot]
    public var migrations: [Migration]
    public var subscriptions: [String]
    public var hookPoints: [HookPoint] = []
    /// ABI 1.1: the slots whose services the plugin calls, with the revision it speaks.
    public var slotUses: [Slot] = []
}
