// The HTTP host is used with its runtime: importing StelltronHost brings both, as importing
// Hummingbird brings HummingbirdCore.
@_exported import StelltronRuntime
