/// The one error type of the template module: bad references, template syntax, missing values.
///
/// Messages name the template, line and column and the reference, never a value.
/// Every kind maps to exit status 65 (data error) at the command line (the core module adds the
/// mapping: this module cannot see it).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. Compare with `==`; a struct, so that new kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case badReference, syntax, missing, data
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// A reference that does not parse, or an unknown scheme.
        public static let badReference = Kind(.badReference)
        /// Template syntax: unclosed section, bad tag, unknown filter.
        public static let syntax = Kind(.syntax)
        /// A reference, field or key that resolved to nothing, with no `default` or `{{^…}}`.
        public static let missing = Kind(.missing)
        /// A value of the wrong shape: `#field` on a non-JSON value, bad base64, a partial that cannot be read.
        public static let data = Kind(.data)

        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String
    /// Where in a template the error is, when it comes from one.
    public var location: SourceLocation?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}

/// A position in a named template: `name:line:column`, 1-based.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var template: String
    public var line: Int
    public var column: Int

    public init(template: String, line: Int, column: Int) {
        self.template = template
        self.line = line
        self.column = column
    }

    public var description: String { "\(template):\(line):\(column)" }
}
