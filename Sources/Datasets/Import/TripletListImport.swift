import Basics
import Foundation

/// How to make a dataset from the original CSN code's files (`csn data import-triplets`).
public struct TripletListImportOptions: Sendable {
    /// The names file: one image path per line (a JSON list of strings is read too).
    public var filenamesPath: String
    /// The folder with `{condition}_tripletlist_{train,val,test}.txt`.
    public var tripletsDirectory: String
    /// The folder the image paths are relative to.
    public var imagesDirectory: String
    public var imageSize = 32
    public var color = false
    public var skipBad = false
    /// Let image paths leave `imagesDirectory` (absolute, `..`, links out).
    public var allowOutside = false
    /// What transparent pixels are composed onto.
    public var background = Background.white

    public init(filenamesPath: String, tripletsDirectory: String, imagesDirectory: String) {
        self.filenamesPath = filenamesPath
        self.tripletsDirectory = tripletsDirectory
        self.imagesDirectory = imagesDirectory
    }
}

/// Builds a dataset that trains and evaluates on exactly the given triplets. Its conditions have
/// no attributes, only lists; each image goes to the split of the lists that use it (test before
/// val before train, when lists share images).
public enum TripletListImport {
    public static func build(_ options: TripletListImportOptions,
                             progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> (ImageDataset, ImportReport) {
        let names = try readNames(options.filenamesPath)
        let conditionNames = try findConditions(in: options.tripletsDirectory)
        var report = ImportReport()

        // Every list is read and checked before any image, so a bad index fails fast.
        var lists: [Split: [TripletList]] = [:]
        for split in Split.allCases {
            lists[split] = try conditionNames.enumerated().map { c, name in
                let path = options.tripletsDirectory + "/" + "\(name)_tripletlist_\(split).txt"
                let list = try TripletTextFormat.decode(try AtomicFile.read(path),
                                                        condition: c, imageCount: names.count, source: path)
                // Val and test lists may be empty (a condition too rare to evaluate); training needs each.
                guard list.count > 0 || split != .train else { throw CSNError.file(path, "the training list has no triplets") }
                return list
            }
        }

        let channels = options.color ? 3 : 1
        let folder = try ConfinedFolder(options.imagesDirectory, allowOutside: options.allowOutside)
        let images = ImageLoader.load(names: names, in: folder, size: options.imageSize,
                                      channels: channels, background: options.background, progress: progress)
        let gathered = try ImageLoader.gather(images, origin: { "line \($0 + 1) of \(options.filenamesPath)" },
                                              skipBad: options.skipBad, report: &report)
        var newIndex = [Int32](repeating: -1, count: names.count)
        for (position, i) in gathered.kept.enumerated() { newIndex[i] = Int32(position) }
        let keptNames = gathered.kept.map { names[$0] }
        guard !keptNames.isEmpty else { throw CSNError.file(options.filenamesPath, "no listed image could be read") }

        // Renumber the triplets; those that lost an image go.
        var renumbered: [Split: TripletList] = [:]
        var dropped = 0
        for split in Split.allCases {
            var all = TripletList()
            for list in lists[split]! {
                for t in 0..<list.count {
                    let old = list[t]
                    let a = newIndex[Int(old.anchor)], p = newIndex[Int(old.positive)], n = newIndex[Int(old.negative)]
                    guard a >= 0, p >= 0, n >= 0 else { dropped += 1; continue }
                    all.append(Triplet(condition: old.condition, anchor: a, positive: p, negative: n))
                }
            }
            renumbered[split] = all
        }
        if dropped > 0 { report.warnings.append("\(dropped) triplet(s) used a skipped image and were dropped") }

        var splits = [Split](repeating: .train, count: keptNames.count)
        var used = [Set<Split>](repeating: [], count: keptNames.count)
        for split in Split.allCases {
            let list = renumbered[split]!
            for t in 0..<list.count {
                let triplet = list[t]
                for image in [triplet.anchor, triplet.positive, triplet.negative] { used[Int(image)].insert(split) }
            }
        }
        for i in splits.indices {
            splits[i] = used[i].contains(.test) ? .test : used[i].contains(.val) ? .val : .train
        }
        let shared = used.filter { $0.count > 1 }.count
        if shared > 0 { report.warnings.append("\(shared) image(s) appear in the lists of more than one split") }

        let dataset = ImageDataset(imageSize: options.imageSize, channels: channels, pixels: gathered.pixels, imageNames: keptNames,
                                   conditions: conditionNames.map { .listed(name: $0, imageCount: keptNames.count) },
                                   groups: (0..<keptNames.count).map { Int32($0) }, groupNames: keptNames, splits: splits,
                                   trainTriplets: renumbered[.train]!, valTriplets: renumbered[.val]!, testTriplets: renumbered[.test]!,
                                   provenance: ["kind": "triplet-lists", "filenames": options.filenamesPath,
                                                "triplets": options.tripletsDirectory, "images": options.imagesDirectory,
                                                "skipped": String(report.skippedTotal)])
        try dataset.validate(source: options.tripletsDirectory)
        return (dataset, report)
    }

    /// Image paths, one per line; the original code's file is plain lines despite its .json name,
    /// but a JSON list of strings is read as well.
    static func readNames(_ path: String) throws -> [String] {
        let bytes = try AtomicFile.read(path)
        let text = TextLines.decode(bytes)
        if text.drop(while: { $0.isWhitespace }).first == "[" {
            guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
                throw CSNError.file(path, "starts like a JSON list but is not a list of strings")
            }
            return list
        }
        var names = TextLines.split(bytes).map { String($0.text).trimmingCharacters(in: .whitespaces) }
        while names.last == "" { names.removeLast() }
        if let blank = names.firstIndex(of: "") { throw CSNError.file("\(path):\(blank + 1)", "the line names no image") }
        guard !names.isEmpty else { throw CSNError.file(path, "the file names no image") }
        return names
    }

    /// Condition names from the list files present, each needing its train, val and test list;
    /// numbered conditions (the original code's 0, 1, 2, 3) sort by number.
    static func findConditions(in directory: String) throws -> [String] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CSNError.file(directory, "no such folder")
        }
        let marker = "_tripletlist_"
        var found: [String: Set<String>] = [:]
        for file in files where file.hasSuffix(".txt") {
            guard let range = file.range(of: marker, options: .backwards) else { continue }
            let condition = String(file[..<range.lowerBound])
            let split = String(file[range.upperBound...].dropLast(4))
            found[condition, default: []].insert(split)
        }
        guard !found.isEmpty else {
            throw CSNError.file(directory, "no triplet lists here (files named {condition}_tripletlist_{train,val,test}.txt)")
        }
        for (condition, splits) in found {
            for split in Split.allCases where !splits.contains(split.description) {
                throw CSNError.file(directory + "/" + TripletTextFormat.listFile(condition: condition, split: split),
                                    "missing: condition '\(condition)' needs train, val and test lists")
            }
        }
        return found.keys.sorted { a, b in
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
    }
}
