import CStelltronPluginAPI
import Foundation

/// Copies Swift strings into C memory that lives as long as the arena, NUL-terminated as the ABI
/// promises plugins. One arena serves one plugin call.
final class CStringArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    func str(_ string: String) -> stl_str {
        var copy = string
        return copy.withUTF8 { bytes in str(UnsafeRawBufferPointer(bytes)) }
    }

    func str(_ data: Data) -> stl_str {
        data.withUnsafeBytes { str($0) }
    }

    private func str(_ bytes: UnsafeRawBufferPointer) -> stl_str {
        let memory = malloc(bytes.count + 1)!
        allocations.append(memory)
        if let base = bytes.baseAddress { memory.copyMemory(from: base, byteCount: bytes.count) }
        memory.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return stl_str(ptr: memory.assumingMemoryBound(to: CChar.self), len: bytes.count)
    }

    deinit {
        allocations.forEach { free($0) }
    }
}
