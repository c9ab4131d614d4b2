/// A value moved into another concurrency domain exactly once and never shared: the sender gives
/// it up when it hands it over, the receiver is its only user afterwards (a plugin call's closure
/// going to GRDB's writer or reader queue, its answer coming back). What makes that safe is the
/// hand-over itself, which the type system cannot see through GRDB's `@Sendable` closures; each
/// use says why nothing else touches the value.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
