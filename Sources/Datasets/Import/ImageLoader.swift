import Basics
import Foundation

/// Reads many image files in parallel and fits each into the dataset's square, keeping the order.
/// Each result is the planar pixels or the error for that file; the caller decides whether an
/// error stops the import or is skipped and counted.
public enum ImageLoader {
    /// Reads `names` from inside `folder`; `progress(done, total)` is called as files are read.
    public static func load(names: [String], in folder: ConfinedFolder, size: Int, channels: Int, background: Background = .white,
                            progress: @Sendable (Int, Int) -> Void = { _, _ in }) -> [Result<[UInt8], CSNError>] {
        let results = ResultSlots<Result<[UInt8], CSNError>>(count: names.count)
        DispatchQueue.concurrentPerform(iterations: names.count) { i in
            results[i] = Result { try folder.resolve(names[i]) }
                .mapError { $0 as? CSNError ?? CSNError("\($0)") }
                .flatMap { loadOne($0, size: size, channels: channels, background: background) }
            progress(results.markDone(), names.count)
        }
        return results.values.map { $0! }
    }

    /// The images that were read, in order, with their positions; each failure stops the import
    /// or, with `skipBad`, is counted. `origin(i)` says where image i was named, for the message.
    static func gather(_ results: [Result<[UInt8], CSNError>], origin: (Int) -> String, skipBad: Bool,
                       report: inout ImportReport) throws -> (kept: [Int], pixels: [UInt8]) {
        var kept: [Int] = []
        var pixels: [UInt8] = []
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let fitted):
                kept.append(i)
                pixels.append(contentsOf: fitted)
            case .failure(let error):
                try report.reject(CSNError("\(error.description) (\(origin(i)))"), reason: "unreadable images", skipBad: skipBad)
            }
        }
        report.imported = kept.count
        return (kept, pixels)
    }

    public static func loadOne(_ path: String, size: Int, channels: Int, background: Background = .white) -> Result<[UInt8], CSNError> {
        do {
            let bytes = try AtomicFile.read(path)
            let image = try ImageDecoder.decode(bytes, channels: channels, minimumSide: size, background: background, source: path)
            return .success(ImageFitter.fit(image, size: size))
        } catch let error as CSNError {
            return .failure(error)
        } catch {
            return .failure(CSNError.file(path, "\(error)"))
        }
    }

    /// Image files under `directory` (JPEG and PNG by extension), as paths relative to it.
    public static func imageFiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let lower = relative.lowercased()
            if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".png") { files.append(relative) }
        }
        return files.sorted()
    }
}

/// What an import did: how many images it took, what it skipped and why, what it noticed.
public struct ImportReport: Sendable {
    public var imported = 0
    /// Skipped rows or images per reason.
    public var skipped: [String: Int] = [:]
    /// The first few skipped items, each with its file and line.
    public var skipExamples: [String] = []
    public var warnings: [String] = []
    /// Facts worth knowing that need no action (files the table does not name); `--quiet` hides them.
    public var notes: [String] = []

    public init() {}

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// Either throws `error` or, when skipping, counts it under `reason`.
    mutating func reject(_ error: CSNError, reason: String, skipBad: Bool) throws {
        guard skipBad else { throw error }
        skipped[reason, default: 0] += 1
        if skipExamples.count < 5 { skipExamples.append(error.description) }
    }

    public func summary(quiet: Bool = false) -> [String] {
        var lines = ["imported \(imported) images"]
        if skippedTotal > 0 {
            lines.append("skipped \(skippedTotal): " + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            lines += skipExamples.map { "  e.g. \($0)" }
        }
        return lines + warnings.map { "warning: \($0)" } + (quiet ? [] : notes.map { "note: \($0)" })
    }
}
