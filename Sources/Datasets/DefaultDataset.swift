import Foundation

/// Where the embedded default data (the fonts dataset shipped in Assets/) is found:
/// `$CSN_DATA` if set, else `share/csn` beside the installed binary, else the source checkout's Assets/.
public enum DefaultDataset {
    public static let fileName = "fonts32.safetensors.gz"

    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["CSN_DATA"], !override.isEmpty { return override }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/csn/\(fileName)").path
        if FileManager.default.fileExists(atPath: installed) { return installed }
        return checkoutAssets
    }

    /// Assets/ of the checkout this file was compiled from.
    public static var checkoutAssets: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Assets/\(fileName)").path
    }
}
