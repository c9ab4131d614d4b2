import NIOCore
import NIOPosix

/// Flushes the answers an event loop wrote during one of its ticks together, after the tick's
/// reads, instead of one `writev` right after each answer.
///
/// Why: on this kind of machine the load generator (or a busy client's thread) sleeps between
/// answers, and each answer that finds it asleep wakes it — a reschedule interrupt, the largest
/// single cost of a short request's `writev` (BENCHMARKS.md, issue 16, fourteenth session). The
/// loop handles every connection that became readable in one tick before it runs its tasks, so
/// answers flushed from a task leave back to back: the first wakes the client's thread, the
/// others find it awake. When a tick has one request, its answer leaves after it as before.
enum LoopFlushBatch {
    /// The channels waiting for a flush, by loop. A server's loop owns its thread, so there is
    /// one entry; test loops (`EmbeddedEventLoop`) share their caller's thread, so there may be
    /// several, and each is flushed by a task on its own loop.
    // @unchecked Sendable: the flush task runs on the thread that filled the batch.
    private final class Pending: @unchecked Sendable {
        var byLoop: [(loop: ObjectIdentifier, channels: [any Channel])] = []
    }

    /// Each thread's batches: only that thread touches them.
    private static let pending = ThreadSpecificVariable<Pending>()

    /// Flushes `channel` once its loop's current tick is over. Call on the channel's loop.
    static func flushAfterTick(_ channel: any Channel) {
        let loop = channel.eventLoop
        loop.assertInEventLoop()
        let batch: Pending
        if let existing = pending.currentValue {
            batch = existing
        } else {
            batch = Pending()
            pending.currentValue = batch
        }
        let id = ObjectIdentifier(loop)
        if let index = batch.byLoop.firstIndex(where: { $0.loop == id }) {
            batch.byLoop[index].channels.append(channel)
            return
        }
        batch.byLoop.append((id, [channel]))
        loop.execute {
            guard let index = batch.byLoop.firstIndex(where: { $0.loop == id }) else { return }
            let channels = batch.byLoop.remove(at: index).channels
            // Through the pipeline's tail, not the writing handler's context: a handler removed
            // since (an upgrade) must not leave its answer unflushed.
            for channel in channels { channel.flush() }
        }
    }
}
