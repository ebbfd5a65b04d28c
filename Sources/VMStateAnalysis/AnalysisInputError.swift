import VMState

/// Input the analyzer cannot read. Every analyzer API throws one kind, typed:
/// ``StreamFileError`` (a file that cannot be opened or read), ``StreamAnalysisError`` (bytes
/// that are not a readable QEMU 7.2 stream, or its vmdesc), ``CompatInputError`` (a
/// `-dump-vmstate` file of the wrong shape) and the JSON parser's error. A caller that reports
/// them all the same way (the `vmstate` tool: the description on stderr, exit status 2) catches
/// this one protocol.
public protocol AnalysisInputError: Error, CustomStringConvertible {}

extension StreamFileError: AnalysisInputError {}
extension StreamAnalysisError: AnalysisInputError {}
extension CompatInputError: AnalysisInputError {}
extension JSONParseError: AnalysisInputError {}
