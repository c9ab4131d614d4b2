/// The Swift compiler this kit was built with, as "major.minor". Swift has no stable ABI on Linux
/// and every Swift plugin shares the host's Swift runtime, so the host refuses a plugin built by
/// another compiler. (The host links this same declaration to compare.)
public let stelltronSwiftCompilerVersion: String = {
    #if compiler(>=6.6)
    return "6.6+"
    #elseif compiler(>=6.5)
    return "6.5"
    #elseif compiler(>=6.4)
    return "6.4"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #else
    return "6.0"
    #endif
}()
