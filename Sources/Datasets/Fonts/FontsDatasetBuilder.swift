import Basics
import Foundation

/// How to build a fonts dataset (`csn data fonts`).
public struct FontsDatasetOptions: Sendable {
    public var fontsDirectories: [String] = ["/usr/share/fonts"]
    /// Glyph images are size x size pixels (32 or 64).
    public var size = 32
    public var seed: UInt64 = 1
    public var valFraction = 0.1
    public var testFraction = 0.1
    /// Fixed val and test triplets per condition.
    public var tripletsPerCondition = 10_000
    /// Keep at most this many fonts (a seeded choice), to bound the file size; nil keeps all.
    public var maxFonts: Int?

    public init() {}
}

/// What the builder saw: how many faces it read, kept and skipped, and why.
public struct FontsBuildReport: Sendable {
    public var files = 0
    public var faces = 0
    public var kept = 0
    /// Skip category -> the faces skipped for it ("file#face").
    public var skipped: [String: [String]] = [:]
    /// Fonts dropped by the maxFonts cap.
    public var capped = 0
    /// Conditions that some split cannot give evaluation triplets for.
    public var warnings: [String] = []

    public var summary: String {
        var lines = ["\(files) font files, \(faces) faces: \(kept) kept"]
        for (category, faces) in skipped.sorted(by: { $0.value.count > $1.value.count }) {
            let examples = faces.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            lines.append("  skipped \(faces.count): \(category) (e.g. \(examples))")
        }
        if capped > 0 { lines.append("  left out \(capped) by --max-fonts") }
        lines += warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Builds the fonts dataset from font files: render, read attributes, skip and deduplicate,
/// split by font, sample the fixed evaluation triplets.
public enum FontsDatasetBuilder {
    public static let conditionNames = ["character", "font", "weight", "slant"]
    static let fontFileExtensions: Set<String> = ["ttf", "otf", "ttc", "otc", "pfb", "pfa", "t1", "woff"]
    static let symbolWords = ["symbol", "dingbat", "icon", "emoji", "awesome", "wingding", "webding", "ornament"]

    /// The font files under the given folders, symlinks resolved, each once, in path order.
    public static func fontFiles(in directories: [String]) throws -> [String] {
        var files = Set<String>()
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
                throw CSNError.file(directory, "no such folder")
            }
            if !isDirectory.boolValue { files.insert(directory); continue }
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let relative = enumerator?.nextObject() as? String {
                let path = (directory as NSString).appendingPathComponent(relative)
                guard fontFileExtensions.contains((path as NSString).pathExtension.lowercased()) else { continue }
                files.insert((path as NSString).resolvingSymlinksInPath)
            }
        }
        return files.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    private struct RenderedFace {
        var info: FontInfo
        var pixels: [UInt8]
    }

    private enum FaceOutcome {
        case kept(RenderedFace)
        case skipped(String, FontSkipReason)
    }

    /// Renders one file's faces. A file FreeType cannot open is reported, not thrown.
    private static func renderFile(_ path: String, size: Int) -> [FaceOutcome] {
        guard let first = try? FontFace(path: path) else { return [.skipped(path, .unreadable)] }
        var outcomes: [FaceOutcome] = []
        for faceIndex in 0..<max(1, first.faceCount) {
            let label = first.faceCount > 1 ? "\(path)#\(faceIndex)" : path
            guard let font = faceIndex == 0 ? first : try? FontFace(path: path, faceIndex: faceIndex) else {
                outcomes.append(.skipped(label, .unreadable))
                continue
            }
            let family = font.familyName.lowercased()
            if symbolWords.contains(where: { family.contains($0) }) {
                outcomes.append(.skipped(label, .symbolFont))
                continue
            }
            switch GlyphRenderer.render(font, size: size) {
            case .failure(let reason): outcomes.append(.skipped(label, reason))
            case .success(let pixels):
                let name = [font.familyName, font.styleName].filter { !$0.isEmpty }.joined(separator: " ")
                outcomes.append(.kept(RenderedFace(info: font.attributes(name: name), pixels: pixels)))
            }
        }
        return outcomes
    }

    /// Builds the dataset; `progress(done, total)` is called as files are rendered.
    public static func build(_ options: FontsDatasetOptions,
                             progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> (ImageDataset, FontsBuildReport) {
        guard options.size == 32 || options.size == 64 else {
            throw CSNError("the image size must be 32 or 64, not \(options.size)")
        }
        let files = try fontFiles(in: options.fontsDirectories)
        // A file the user named (rather than found in a folder) must open.
        for path in options.fontsDirectories where !isDirectory(path) {
            _ = try FontFace(path: path)
        }
        guard !files.isEmpty else {
            throw CSNError("no font files (\(fontFileExtensions.sorted().joined(separator: ", "))) under \(options.fontsDirectories.joined(separator: ", "))")
        }
        // Render files on all cores; results are gathered per file so the order stays deterministic.
        let results = ResultSlots<[FaceOutcome]>(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            results[i] = renderFile(files[i], size: options.size)
            progress(results.markDone(), files.count)
        }

        var report = FontsBuildReport()
        report.files = files.count
        var kept: [RenderedFace] = []
        var exact: [UInt64: [Int]] = [:]
        var coarse = Set<UInt64>()
        for outcome in results.values.flatMap({ $0 ?? [] }) {
            report.faces += 1
            switch outcome {
            case .skipped(let label, let reason):
                report.skipped[reason.category, default: []].append(label)
            case .kept(let face):
                let label = "\(face.info.file)#\(face.info.faceIndex)"
                let hash = StableHash.fnv1a(face.pixels)
                if exact[hash, default: []].contains(where: { kept[$0].pixels == face.pixels }) {
                    report.skipped[FontSkipReason.duplicate.category, default: []].append(label)
                    continue
                }
                let fingerprint = StableHash.thumbnailFingerprint(face.pixels, size: options.size)
                guard coarse.insert(fingerprint).inserted else {
                    report.skipped[FontSkipReason.nearDuplicate.category, default: []].append(label)
                    continue
                }
                exact[hash, default: []].append(kept.count)
                kept.append(face)
            }
        }
        if let maxFonts = options.maxFonts, kept.count > maxFonts {
            let chosen = Set(balancedChoice(families: kept.map(\.info.family), count: maxFonts, seed: options.seed))
            report.capped = kept.count - maxFonts
            kept = kept.indices.filter { chosen.contains($0) }.map { kept[$0] }
        }
        report.kept = kept.count
        guard kept.count >= 3 else {
            throw CSNError("only \(kept.count) usable font(s) under \(options.fontsDirectories.joined(separator: ", ")); a dataset needs at least 3 (one per split)\n\(report.summary)")
        }
        var dataset = try assemble(kept, options: options)
        dataset.provenance["skip_report"] = report.summary
        report.warnings = dataset.provenance["warnings"].map { $0.components(separatedBy: "\n") } ?? []
        return (dataset, report)
    }

    /// Picks `count` items, taking one from each family in turn (in a seeded order within families),
    /// so that a cap trims the largest families (dozens of Noto widths and weights) before any small one.
    static func balancedChoice(families: [String], count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed ^ 0x4D41_5846)
        var byFamily: [String: [Int]] = [:]
        for (i, family) in families.enumerated() { byFamily[family, default: []].append(i) }
        var queues = byFamily.keys.sorted().map { byFamily[$0]!.shuffled(using: &generator) }
        var chosen: [Int] = []
        var round = 0
        while chosen.count < count {
            queues.removeAll { $0.count <= round }
            for queue in queues where chosen.count < count { chosen.append(queue[round]) }
            round += 1
        }
        return chosen.sorted()
    }

    /// Lays the kept faces out as a dataset: images font by font, the four conditions, the split.
    private static func assemble(_ faces: [RenderedFace], options: FontsDatasetOptions) throws -> ImageDataset {
        var fonts = faces.map(\.info)
        // Names must be unique: they are the values of the `font` condition.
        var uses: [String: Int] = [:]
        for i in fonts.indices {
            uses[fonts[i].name, default: 0] += 1
            if uses[fonts[i].name]! > 1 { fonts[i].name += " #\(uses[fonts[i].name]!)" }
        }
        let perFont = FontCharacters.count
        let strata = fonts.map { Int($0.weightBucket) * 2 + Int($0.slantBucket) }
        let fontSplits = try GroupSplit.assign(groupCount: fonts.count, strata: strata, valFraction: options.valFraction,
                                               testFraction: options.testFraction, seed: options.seed)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(faces.count * perFont * options.size * options.size)
        var characterLabels: [Int32] = [], fontLabels: [Int32] = [], weightLabels: [Int32] = [], slantLabels: [Int32] = []
        var splits: [Split] = [], imageNames: [String] = []
        for (f, face) in faces.enumerated() {
            pixels.append(contentsOf: face.pixels)
            for c in 0..<perFont {
                characterLabels.append(Int32(c))
                fontLabels.append(Int32(f))
                weightLabels.append(fonts[f].weightBucket)
                slantLabels.append(fonts[f].slantBucket)
                splits.append(fontSplits[f])
                imageNames.append("\(fonts[f].name)/\(FontCharacters.all[c])")
            }
        }
        let conditions = [
            Condition(name: "character", valueNames: FontCharacters.all.map(String.init), labels: characterLabels),
            Condition(name: "font", valueNames: fonts.map(\.name), labels: fontLabels),
            Condition(name: "weight", valueNames: FontInfo.weightClassNames, labels: weightLabels),
            Condition(name: "slant", valueNames: FontInfo.slantNames, labels: slantLabels),
        ]
        var dataset = ImageDataset(imageSize: options.size, channels: 1, pixels: pixels, imageNames: imageNames,
                                   conditions: conditions, groups: fontLabels, groupNames: fonts.map(\.name),
                                   splits: splits, fonts: fonts,
                                   provenance: ["seed": String(options.seed), "kind": "fonts"])
        let warnings = try dataset.sampleEvaluationTriplets(perCondition: options.tripletsPerCondition, seed: options.seed)
        if !warnings.isEmpty { dataset.provenance["warnings"] = warnings.joined(separator: "\n") }
        return dataset
    }
}
