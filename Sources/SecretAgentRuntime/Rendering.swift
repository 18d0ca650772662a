#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretTemplate

/// The result of rendering a job: file contents and the child's variables.
public struct RenderedJob: Sendable {
    public var files: [FileWrite]
    /// Variables made by the job (explicit, inherited references and `--env-from`), by name.
    public var environment: [String: String]
}

extension Job {
    /// Renders every template with fetched values. Throws a `TemplateError` naming the template,
    /// line and column on a missing value; an environment value with a NUL byte or invalid UTF-8
    /// is refused (exit 65).
    public func render(_ values: [Locator: Resolution], defaultAllowDisk: Bool) throws -> RenderedJob {
        var files: [FileWrite] = []
        for f in self.files {
            files.append(try Self.fileWrite(f.spec, bytes: try f.template.render(values), defaultAllowDisk: defaultAllowDisk))
        }
        var environment: [String: String] = [:]
        for reference in envFrom {
            let value: Value?
            switch values[reference.locator] {
            case .found(let v)?: value = try reference.select(from: v)
            default: value = nil
            }
            guard let value else {
                throw TemplateError(.missing, "--env-from \(reference.text): not found")
            }
            guard case .map(let map) = value.structured else {
                throw TemplateError(.data, "--env-from \(reference.text): the value is not a map (a JSON object or an ssm-path:)")
            }
            for key in map.keys.sorted() {
                let name = Self.envName(key)
                environment[name] = try Self.envString(map[key]!.renderedBytes, name: name, source: reference.text)
            }
        }
        // Inherited references first, so explicit entries win on the same name.
        for e in env.sorted(by: { $0.inherited && !$1.inherited }) {
            environment[e.name] = try Self.envString(try e.template.render(values), name: e.name, source: e.template.name)
        }
        return RenderedJob(files: files, environment: environment)
    }

    /// The write for one template's rendered bytes: destination, mode, owner, allow_disk.
    public static func fileWrite(_ spec: TemplateSpec, bytes: [UInt8], defaultAllowDisk: Bool) throws -> FileWrite {
        var uid: uid_t?
        var gid: gid_t?
        if let user = spec.user {
            uid = try Accounts.uid(user)
            if spec.group == nil { gid = Accounts.primaryGroup(of: uid!) }
        }
        if let group = spec.group { gid = try Accounts.gid(group) }
        return FileWrite(destination: spec.destination, bytes: bytes, mode: spec.mode, uid: uid, gid: gid,
                         allowDisk: spec.allowDisk ?? defaultAllowDisk, confinedTo: spec.confinedTo)
    }

    /// chamber's rule: upper-cased, `/`, `-` and `.` become `_`.
    public static func envName(_ key: String) -> String {
        String(key.uppercased().map { "/-.".contains($0) ? "_" : $0 })
    }

    static func envString(_ bytes: [UInt8], name: String, source: String) throws -> String {
        if bytes.contains(0) {
            throw TemplateError(.data, "\(source): the value for \(name) contains a NUL byte and cannot go into the environment; use | base64")
        }
        if bytes.count + name.utf8.count + 1 > 131_072 {
            throw TemplateError(.data, "\(source): the value for \(name) is \(bytes.count) bytes; Linux allows 128 KiB per variable; render it to a file instead")
        }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw TemplateError(.data, "\(source): the value for \(name) is not valid UTF-8 and cannot go into the environment; use | base64")
        }
        return s
    }
}
