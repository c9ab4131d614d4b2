import CStelltronPluginAPI
import Foundation

/// Copies Swift strings into C memory that lives as long as the arena, NUL-terminated as the ABI
/// promises plugins. One arena serves one plugin call.
///
/// The copies are carved out of blocks, not one `malloc` each: a request marshalled for the ABI
/// is about ten short strings, and a `malloc`, a `free` and the growing list of them per string
/// were a third of marshalling it (`stelltron-bench reads`, BENCHMARKS.md, issue 16, fourteenth
/// session). A string too large for a block gets its own allocation.
final class CStringArena {
    /// Room for a request's strings but its body and large headers.
    static let blockSize = 1024

    private var allocations: [UnsafeMutableRawPointer] = []
    /// The current block's free space.
    private var next: UnsafeMutableRawPointer?
    private var remaining = 0

    init() {
        allocations.reserveCapacity(2)
    }

    func str(_ string: String) -> stl_str {
        var copy = string
        return copy.withUTF8 { bytes in str(UnsafeRawBufferPointer(bytes)) }
    }

    func str(_ data: Data) -> stl_str {
        data.withUnsafeBytes { str($0) }
    }

    func str(_ bytes: [UInt8]) -> stl_str {
        bytes.withUnsafeBytes { str($0) }
    }

    private func str(_ bytes: UnsafeRawBufferPointer) -> stl_str {
        let memory = take(bytes.count + 1)
        if let base = bytes.baseAddress { memory.copyMemory(from: base, byteCount: bytes.count) }
        memory.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return stl_str(ptr: memory.assumingMemoryBound(to: CChar.self), len: bytes.count)
    }

    /// `count` bytes that stay put until the arena goes: from the current block when they fit,
    /// else from a new block, or on their own when they would fill more than half of one.
    private func take(_ count: Int) -> UnsafeMutableRawPointer {
        if count <= remaining, let start = next {
            next = start + count
            remaining -= count
            return start
        }
        if count > Self.blockSize / 2 {
            let memory = malloc(count)!
            allocations.append(memory)
            return memory
        }
        let block = malloc(Self.blockSize)!
        allocations.append(block)
        next = block + count
        remaining = Self.blockSize - count
        return block
    }

    deinit {
        allocations.forEach { free($0) }
    }
}
