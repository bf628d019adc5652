import Basics
import Datasets
import Foundation

/// Helpers shared by the test targets: temporary folders, the DejaVu fixture, running the binary.
public enum TestSupport {
    /// The DejaVu fonts that `make test` installs (fonts-dejavu-core and fonts-dejavu-extra).
    public static let dejavuDirectory = "/usr/share/fonts/truetype/dejavu"
    public static let dejavuSans = dejavuDirectory + "/DejaVuSans.ttf"

    /// A fresh empty folder under the system's temporary folder.
    public static func temporaryDirectory(_ label: String = "csn-test") -> String {
        let path = NSTemporaryDirectory() + "\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A fonts dataset rendered from the DejaVu fonts, built once per test process.
    public static let dejavuDataset: ImageDataset = {
        var options = FontsDatasetOptions()
        options.fontsDirectories = [dejavuDirectory]
        options.tripletsPerCondition = 500
        options.seed = 7
        return try! FontsDatasetBuilder.build(options).0
    }()

    /// The dejavu dataset saved to a file (once per process).
    public static let dejavuDatasetFile: String = {
        let path = temporaryDirectory("csn-dejavu") + "/dejavu.safetensors.gz"
        try! dejavuDataset.save(to: path)
        return path
    }()

    public struct ProcessResult {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `csn` binary built beside the test bundle.
    public static var csnBinary: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // Swift Testing may run from inside the .xctest bundle's folder.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("csn").path),
              directory.pathComponents.count > 1 {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("csn").path
    }

    /// Runs `csn` with arguments, no terminal, and returns its exit status and output.
    public static func runCSN(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: csnBinary)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "80"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }
}
