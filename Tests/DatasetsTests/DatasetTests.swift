import Basics
@testable import Datasets
import Foundation
import Testing
import TestSupport

@Suite struct SplitTests {
    @Test func noGroupInTwoSplitsAndFractionsHold() throws {
        let strata = (0..<1000).map { $0 % 6 }
        let splits = try GroupSplit.assign(groupCount: 1000, strata: strata, seed: 3)
        let counts = Split.allCases.map { s in splits.filter { $0 == s }.count }
        #expect(counts == [800, 100, 100], "counts \(counts)")
        // Each stratum is spread in proportion: every kind reaches val and test.
        for stratum in 0..<6 {
            let members = (0..<1000).filter { strata[$0] == stratum }.map { splits[$0] }
            for split in [Split.val, .test] {
                let share = Double(members.filter { $0 == split }.count) / Double(members.count)
                #expect(abs(share - 0.1) < 0.02, "stratum \(stratum) \(split) share \(share)")
            }
        }
    }

    @Test func seededAndSmallSetsStillGetEverySplit() throws {
        #expect(try GroupSplit.assign(groupCount: 50, seed: 1) == GroupSplit.assign(groupCount: 50, seed: 1))
        #expect(try GroupSplit.assign(groupCount: 50, seed: 1) != GroupSplit.assign(groupCount: 50, seed: 2))
        let tiny = try GroupSplit.assign(groupCount: 3, seed: 9)
        #expect(Set(tiny) == Set(Split.allCases))
        #expect(throws: CSNError("cannot split 2 group(s) into train, val and test: need at least 3 (an empty split)")) {
            try GroupSplit.assign(groupCount: 2, seed: 1)
        }
    }

    @Test func theDejaVuDatasetKeepsEachFontInOneSplit() {
        let dataset = TestSupport.dejavuDataset
        for f in dataset.fonts.indices {
            let splits = Set((0..<62).map { dataset.splits[f * 62 + $0] })
            #expect(splits.count == 1, "font \(dataset.fonts[f].name) is in \(splits)")
        }
        #expect(Set(dataset.splits) == Set(Split.allCases))
    }
}

@Suite struct TripletTests {
    let dataset = TestSupport.dejavuDataset

    /// Every triplet of every condition obeys the paper's rule, checked one by one.
    func checkRule(_ list: TripletList, split: Split) {
        let character = dataset.conditions[0].labels, font = dataset.conditions[1].labels
        for t in 0..<list.count {
            let triplet = list[t]
            let labels = dataset.conditions[Int(triplet.condition)].labels
            let (a, p, n) = (Int(triplet.anchor), Int(triplet.positive), Int(triplet.negative))
            #expect(a != p, "triplet \(t) repeats its anchor")
            #expect(labels[a] == labels[p] && labels[a] != labels[n], "triplet \(t) breaks its condition")
            #expect([a, p, n].allSatisfy { dataset.splits[$0] == split })
            switch dataset.conditions[Int(triplet.condition)].name {
            case "font": // two different letters of one font, the negative from another font
                #expect(font[a] == font[p] && character[a] != character[p] && font[n] != font[a])
            case "character": // the same letter in two fonts, the negative another letter
                #expect(character[a] == character[p] && font[a] != font[p] && character[n] != character[a])
            default: break
            }
        }
    }

    @Test func trainingDrawsFollowTheRuleForEveryConditionAndMixEvenly() throws {
        let sampler = try TripletSampler(dataset: dataset, split: .train)
        var generator = SeededGenerator(seed: 1)
        let batch = sampler.sampleMixed(count: 4000, using: &generator)
        checkRule(batch, split: .train)
        let perCondition = (0..<4).map { batch.filtered(condition: $0).count }
        #expect(perCondition == [1000, 1000, 1000, 1000])
    }

    @Test func fixedEvaluationListsAreValidAndDeterministic() throws {
        checkRule(dataset.valTriplets, split: .val)
        checkRule(dataset.testTriplets, split: .test)
        var again = dataset
        try again.sampleEvaluationTriplets(perCondition: 500, seed: 7)
        #expect(again.valTriplets == dataset.valTriplets && again.testTriplets == dataset.testTriplets)
        try again.sampleEvaluationTriplets(perCondition: 500, seed: 8)
        #expect(again.valTriplets != dataset.valTriplets)
    }

    @Test func negativesCoverEveryOtherValue() throws {
        // With a fixed draw, the negative of a weight triplet takes each other value at least once.
        let sampler = try TripletSampler(dataset: dataset, split: .train)
        var generator = SeededGenerator(seed: 2)
        var seen = Set<[Int32]>()
        let weight = dataset.conditions[2].labels
        for _ in 0..<2000 {
            let t = sampler.sample(condition: 2, using: &generator)
            seen.insert([weight[Int(t.anchor)], weight[Int(t.negative)]])
        }
        let present = Set(dataset.imageIndices(in: .train).map { weight[Int($0)] })
        #expect(seen.count == present.count * (present.count - 1), "pairs seen: \(seen)")
    }
}

@Suite struct DatasetFileTests {
    let dataset = TestSupport.dejavuDataset

    @Test func saveAndLoadRoundTrip() throws {
        let loaded = try ImageDataset.load(from: TestSupport.dejavuDatasetFile)
        #expect(loaded.pixels == dataset.pixels)
        #expect(loaded.conditions == dataset.conditions)
        #expect(loaded.splits == dataset.splits && loaded.groups == dataset.groups)
        #expect(loaded.valTriplets == dataset.valTriplets && loaded.testTriplets == dataset.testTriplets)
        #expect(loaded.fonts == dataset.fonts && loaded.imageNames == dataset.imageNames)
        #expect(loaded.provenance == dataset.provenance)
    }

    @Test func truncatedAndCorruptFilesNameTheFile() throws {
        let bytes = try AtomicFile.read(TestSupport.dejavuDatasetFile)
        let folder = TestSupport.temporaryDirectory()
        let cut = folder + "/cut.safetensors.gz"
        try AtomicFile.write(Array(bytes.prefix(bytes.count / 2)), to: cut)
        #expect(throws: CSNError("\(cut): truncated gzip data (the file ends early)")) { try ImageDataset.load(from: cut) }
        let noise = folder + "/noise.safetensors.gz"
        try AtomicFile.write((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, to: noise)
        #expect(throws: CSNError("\(noise): not a gzip file")) { try ImageDataset.load(from: noise) }
        #expect(throws: CSNError("\(folder)/absent.gz: no such file")) { try ImageDataset.load(from: folder + "/absent.gz") }
    }

    /// Re-encodes the dataset with one part changed, so that the header disagrees with the data.
    func tampered(_ change: (inout SafeTensorsArchive) -> Void) throws -> Error? {
        let raw = try Gzip.decompress(try AtomicFile.read(TestSupport.dejavuDatasetFile), source: "x")
        var archive = try SafeTensorsArchive(decoding: raw, source: "x")
        change(&archive)
        do { _ = try ImageDataset(decoding: archive.encoded(), source: "t.safetensors"); return nil } catch { return error }
    }

    @Test func headerThatDisagreesWithTheDataIsCaught() throws {
        let n = dataset.count
        let fewerNames = try tampered { $0.metadata["image_names"] = "[\"a\", \"b\"]" }
        #expect("\(fewerNames!)" == "t.safetensors: tensor 'images' has shape [\(n), 32, 32], expected [2, 32, 32]")
        let badLabel = try tampered { $0.tensors["condition.weight"] = SafeTensor([Int32](repeating: 9, count: n), shape: [n]) }
        #expect("\(badLabel!)" == "t.safetensors: image 0 has value 9 for condition 'weight', which has 3 values")
        let missing = try tampered { $0.tensors["condition.slant"] = nil }
        #expect("\(missing!)" == "t.safetensors: missing tensor 'condition.slant'")
        let emptyVal = try tampered { $0.tensors["split"] = SafeTensor([UInt8](repeating: 0, count: n), shape: [n]) }
        #expect("\(emptyVal!)" == "t.safetensors: the val split is empty")
        let badSplit = try tampered { $0.tensors["split"] = SafeTensor([UInt8](repeating: 5, count: n), shape: [n]) }
        #expect("\(badSplit!)" == "t.safetensors: image 0 has split code 5, expected 0, 1 or 2")
        let wrongFormat = try tampered { $0.metadata["format"] = "other" }
        #expect("\(wrongFormat!)" == "t.safetensors: not a csn dataset (format 'other', expected 'csn-dataset/1')")
        let strayTriplet = try tampered { $0.tensors["triplets.val"] = SafeTensor([0, 0, 1, Int32(n)] as [Int32], shape: [1, 4]) }
        #expect("\(strayTriplet!)" == "t.safetensors: val triplet 0 refers to a condition or image that does not exist")
    }

    @Test func unknownConditionListsTheKnownOnes() {
        #expect(throws: CSNError("unknown condition 'colour'; this dataset has: character, font, weight, slant")) {
            try dataset.conditionIndex(named: "colour")
        }
        #expect((try? dataset.conditionIndex(named: "slant")) == 3)
    }
}

@Suite struct TripletTextFormatTests {
    let dataset = TestSupport.dejavuDataset

    /// Exports the lists with every image as a PNG, as `csn data export-triplets --with-images` does.
    func exportWithImages(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        let names = try (0..<dataset.count).map { i in
            let name = "images/\(i).png"
            try AtomicFile.write(try ImageEncoder.png(dataset.interleavedImage(i)), to: folder + "/" + name)
            return name
        }
        try TripletTextFormat.export(dataset, to: folder, names: names, trainPerCondition: 40, seed: 2)
    }

    @Test func exportThenImportGivesTheSameImagesAndLists() throws {
        let folder = TestSupport.temporaryDirectory()
        try exportWithImages(to: folder)
        // "a b c": a is closer to c than to b.
        let first = dataset.valTriplets[0]
        let text = try String(contentsOfFile: folder + "/character_tripletlist_val.txt", encoding: .utf8)
        #expect(text.split(separator: "\n").first == "\(first.anchor) \(first.negative) \(first.positive)")

        let options = TripletListImportOptions(filenamesPath: folder + "/filenames.json", tripletsDirectory: folder, imagesDirectory: folder)
        let (imported, report) = try TripletListImport.build(options)
        #expect(report.imported == dataset.count && report.warnings.isEmpty, "\(report.warnings)")
        #expect(imported.pixels == dataset.pixels)
        // Conditions come back in name order; the lists match condition by condition.
        #expect(imported.conditions.map(\.name) == ["character", "font", "slant", "weight"] && imported.conditions.allSatisfy(\.isListed))
        for (c, name) in imported.conditions.map(\.name).enumerated() {
            let original = try dataset.conditionIndex(named: name)
            for split in [Split.val, .test] {
                let mine = imported.triplets(for: split).filtered(condition: c).storage.enumerated().filter { $0.offset % 4 != 0 }.map(\.element)
                let theirs = dataset.triplets(for: split).filtered(condition: original).storage.enumerated().filter { $0.offset % 4 != 0 }.map(\.element)
                #expect(mine == theirs, "\(split) \(name)")
            }
            #expect(imported.trainTriplets.filtered(condition: c).count == 40)
        }
        // Every image of a test triplet is in the test split.
        let test = imported.testTriplets
        for t in 0..<test.count { #expect(imported.splits[Int(test[t].anchor)] == .test) }
        // Saved and loaded, the training list survives.
        let path = folder + "/imported.safetensors.gz"
        try imported.save(to: path)
        #expect(try ImageDataset.load(from: path).trainTriplets == imported.trainTriplets)
    }

    @Test func badListsNameTheFileAndLine() throws {
        let folder = TestSupport.temporaryDirectory()
        try exportWithImages(to: folder)
        let options = TripletListImportOptions(filenamesPath: folder + "/filenames.json", tripletsDirectory: folder, imagesDirectory: folder)
        try AtomicFile.write("0 1 2\n3 4 \(dataset.count)\n", to: folder + "/font_tripletlist_train.txt")
        #expect(throws: CSNError("\(folder)/font_tripletlist_train.txt:2: image index \(dataset.count) is out of range (there are \(dataset.count) images)")) {
            try TripletListImport.build(options)
        }
        try FileManager.default.removeItem(atPath: folder + "/font_tripletlist_val.txt")
        #expect(throws: CSNError("\(folder)/font_tripletlist_val.txt: missing: condition 'font' needs train, val and test lists")) {
            try TripletListImport.build(options)
        }
        try AtomicFile.write("images/0.png\n\nimages/1.png\n", to: folder + "/names.txt")
        #expect(throws: CSNError("\(folder)/names.txt:2: the line names no image")) {
            try TripletListImport.build(TripletListImportOptions(filenamesPath: folder + "/names.txt", tripletsDirectory: folder, imagesDirectory: folder))
        }
    }

    @Test func badLinesNameTheFileAndLine() {
        #expect(throws: CSNError("f.txt:2: expected three indices 'a b c', found 2 field(s)")) {
            try TripletTextFormat.decode(Array("1 2 3\n4 5\n".utf8), condition: 0, imageCount: 10, source: "f.txt")
        }
        #expect(throws: CSNError("f.txt:1: image index 10 is out of range (there are 10 images)")) {
            try TripletTextFormat.decode(Array("10 2 3\n".utf8), condition: 0, imageCount: 10, source: "f.txt")
        }
        #expect(throws: CSNError("f.txt:3: 'x' is not an image index")) {
            try TripletTextFormat.decode(Array("1 2 3\n\n1 x 3\n".utf8), condition: 0, imageCount: 10, source: "f.txt")
        }
    }
}

@Suite struct FontFamilyTests {
    /// Families are classes only when both splits hold one of their faces; the rest are left out
    /// (-1), and a dataset that lists no fonts has none.
    @Test func onlyFamiliesInBothSplitsAreClasses() {
        func font(_ family: String, _ style: String) -> FontInfo {
            FontInfo(name: family + " " + style, family: family, style: style, file: "", faceIndex: 0, weightClass: 400, italic: false, fixedPitch: false)
        }
        let fonts = [font("Serif", "Regular"), font("Serif", "Bold"), font("Sans", "Regular"), font("Sans", "Bold"),
                     font("Mono", "Regular"), font("Mono", "Bold"), font("Script", "Regular")]
        let fontSplit: [Split] = [.train, .test, .test, .train, .train, .val, .test]
        let perFont = 3, count = fonts.count * perFont
        let groups = (0..<count).map { Int32($0 / perFont) }
        var dataset = ImageDataset(imageSize: 1, channels: 1, pixels: [UInt8](repeating: 0, count: count), imageNames: (0..<count).map { "\($0)" },
                                   conditions: [], groups: groups, groupNames: fonts.map(\.name), splits: groups.map { fontSplit[Int($0)] }, fonts: fonts)
        let (labels, families) = dataset.sharedFamilyLabels()
        #expect(families == ["Sans", "Serif"])
        #expect(labels == groups.map { [1, 1, 0, 0, -1, -1, -1][Int($0)] })
        let sample = dataset.sample(100, from: .train, seed: 1) { labels[$0] >= 0 }
        #expect(sample == [0, 1, 2, 9, 10, 11], "only the training faces of shared families")
        dataset.fonts = []
        #expect(dataset.sharedFamilyLabels().families.isEmpty)
    }
}
