import Foundation

/// One directory per test process for temporary files (databases, configs, branding),
/// removed when the process exits, whether the tests passed or not: a run leaves
/// nothing behind in /tmp.
public enum Scratch {
    public static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portald-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
        return url
    }()
}
