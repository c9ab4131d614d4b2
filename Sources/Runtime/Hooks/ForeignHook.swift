import CFFI
import Foundation

/// A plain exported C function bound to a hook point, called through libffi. The call interface
/// (`ffi_cif`) is prepared once at load: preparing it per call would cost several times the call.
// Sendable: immutable after init; the prepared `ffi_cif` is only read by `ffi_call`, which may run on
// several threads at once.
public final class ForeignHook: @unchecked Sendable {
    public let name: String
    public let signature: HookSignature
    public let library: String
    public let symbol: String
    /// The C function itself, handed to the plugin that declared the hook point.
    let function: UnsafeMutableRawPointer
    private let cif: UnsafeMutablePointer<ffi_cif>
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>

    /// Loads `symbol` from `library` for hook point `name`, after checking that the signature
    /// plugins.conf declares is the one the plugin declared for the point.
    init(name: String, library: String, symbol: String, declared: String, expected: HookSignature) throws {
        func fail(_ problem: String) -> PluginLoadError { PluginLoadError(file: library, "hook \(name): \(problem)") }
        guard let signature = HookSignature(declared) else {
            throw fail("signature '\(declared)' is not of the form type(type, ...) with int32, int64 or double")
        }
        guard signature == expected else {
            throw fail("expects \(expected) but plugins.conf declares \(signature)")
        }
        guard FileManager.default.fileExists(atPath: library) else { throw fail("file not found") }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw fail("cannot be loaded: \(dlerror().map { String(cString: $0) } ?? "unknown reason")")
        }
        guard let function = dlsym(handle, symbol) else { throw fail("symbol \(symbol) not found") }
        self.name = name
        self.signature = signature
        self.library = library
        self.symbol = symbol
        self.function = function
        argumentTypes = .allocate(capacity: max(1, signature.arguments.count))
        for (index, type) in signature.arguments.enumerated() { argumentTypes[index] = Self.ffiType(type) }
        cif = .allocate(capacity: 1)
        cif.initialize(to: ffi_cif())
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(signature.arguments.count), Self.ffiType(signature.returns), argumentTypes)
        guard status == FFI_OK else { throw fail("libffi could not prepare the call (status \(status.rawValue))") }
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
    }

    /// Calls the function with `arguments` converted to the declared types; answers a Double.
    public func call(_ arguments: [Double]) throws -> Double {
        guard arguments.count == signature.arguments.count else {
            throw PluginLoadError(file: library, "hook \(name) takes \(signature.arguments.count) arguments, got \(arguments.count)")
        }
        // One 8-byte slot per argument holds any of the scalar types; both arrays live on the stack.
        let count = arguments.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(1, count)) { storage in
            withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: max(1, count)) { pointers in
                for index in 0..<count {
                    let slot = UnsafeMutableRawPointer(storage.baseAddress! + index)
                    let value = arguments[index]
                    // Integers saturate instead of trapping: a NaN or a huge double must never
                    // bring the host down.
                    let integer = value.isNaN ? 0 : Int64(max(-9.2e18, min(9.2e18, value)))
                    switch signature.arguments[index] {
                    case .int32: slot.storeBytes(of: Int32(clamping: integer), as: Int32.self)
                    case .int64: slot.storeBytes(of: integer, as: Int64.self)
                    case .double: slot.storeBytes(of: value, as: Double.self)
                    }
                    pointers[index] = slot
                }
                var result: UInt64 = 0
                ffi_call(cif, unsafeBitCast(function, to: (@convention(c) () -> Void).self), &result, pointers.baseAddress)
                switch signature.returns {
                // Integer results come back widened to a full register (ffi_arg).
                case .int32: return Double(Int32(truncatingIfNeeded: Int64(bitPattern: result)))
                case .int64: return Double(Int64(bitPattern: result))
                case .double: return Double(bitPattern: result)
                }
            }
        }
    }

    /// libffi's type descriptors are C globals; their addresses come from the loaded libffi.
    private static func ffiType(_ type: HookSignature.ScalarType) -> UnsafeMutablePointer<ffi_type> {
        let name: String
        switch type {
        case .int32: name = "ffi_type_sint32"
        case .int64: name = "ffi_type_sint64"
        case .double: name = "ffi_type_double"
        }
        return dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!.assumingMemoryBound(to: ffi_type.self)
    }
}
