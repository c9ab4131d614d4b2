import NIOCore

/// Runs a task's jobs on one NIO event loop: the connection's own. Hummingbird starts each
/// connection's task on Swift's cooperative pool, so every request crossed threads twice (the
/// loop parses, the pool routes and answers, the loop writes). With this executor preferred for
/// the connection's task, parsing, routing, the plugin call and the write stay on the channel's
/// thread; anything the task awaits elsewhere (the writer's group commit, a PostgreSQL query)
/// resumes back here.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
