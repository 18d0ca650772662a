/// The one error type of the template module: bad references, template syntax, missing values.
///
/// Messages name the template, line and column and the reference, never a value.
/// Every case maps to exit status 65 (data error) at the command line.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A reference that does not parse, or an unknown scheme.
        case badReference
        /// Template syntax: unclosed section, bad tag, unknown filter.
        case syntax
        /// A reference, field or key that resolved to nothing, with no `default` or `{{^…}}`.
        case missing
        /// A value of the wrong shape: `#field` on a non-JSON value, bad base64, a partial that cannot be read.
        case data
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
