/// Why a plugin could not be loaded. Each case prints as one line naming the file and the field,
/// which is what an operator sees when the host refuses to start.
public struct PluginLoadError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String

    public init(file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "plugin \(file): \(problem)" }
}
