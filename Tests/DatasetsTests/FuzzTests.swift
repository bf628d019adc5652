import Basics
@testable import Datasets
import Foundation
import Testing
import TestSupport

/// Seeded fuzzing of the dataset parsers: every mutated input gives a valid value or a CSNError.
@Suite struct DatasetsFuzzTests {
    @Test func datasetFiles() throws {
        let encoded = try TestSupport.smallDataset().encoded()
        let outcome = Fuzz.run("dataset", inputs: [encoded], seed: 11) { bytes in
            // A dataset that loads has passed validate(): use it as the commands would.
            let dataset = try ImageDataset(decoding: bytes, source: "fuzz")
            for split in [Split.val, .test] { _ = dataset.triplets(for: split) }
            _ = try? TripletSampler(dataset: dataset, split: .train, requireAll: false)
        }
        #expect(outcome.rejected > Fuzz.cases / 4, "\(outcome)")
    }

    @Test func gzippedDatasetFiles() throws {
        let compressed = Gzip.compress(try TestSupport.smallDataset().encoded())
        let folder = TestSupport.temporaryDirectory()
        let outcome = Fuzz.run("dataset.gz", inputs: [compressed], seed: 12, cases: Fuzz.cases / 3) { bytes in
            try AtomicFile.write(bytes, to: folder + "/d.safetensors.gz")
            _ = try ImageDataset.load(from: folder + "/d.safetensors.gz", limits: ReadLimits(maxBytes: 1 << 20))
        }
        #expect(outcome.rejected > 0, "\(outcome)")
    }

    @Test func attributeCSV() {
        let inputs = [Array("path,kind,heel\na.png,boot,1.5\n\"b,c.png\",\"sandal \"\"x\"\"\",2\n".utf8),
                      Array("\u{FEFF}path,kind\r\na.png,boot\r\nb.png,shoe\r\n".utf8)]
        let outcome = Fuzz.run("csv", inputs: inputs, seed: 13) { bytes in
            let table = try AttributeTable(csv: bytes, source: "fuzz.csv")
            #expect(!table.header.isEmpty)
            for row in table.rows { #expect(row.line >= 1) }
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func tripletLists() {
        let inputs = [Array("0 1 2\n3 4 5\n".utf8), Array("\u{FEFF}6 7 8\r\n9 0 1\r\n".utf8)]
        let outcome = Fuzz.run("triplets", inputs: inputs, seed: 14) { bytes in
            let list = try TripletTextFormat.decode(bytes, condition: 0, imageCount: 10, source: "fuzz.txt")
            for t in 0..<list.count { #expect(list[t].anchor >= 0 && list[t].anchor < 10) }
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func namesFiles() throws {
        let folder = TestSupport.temporaryDirectory()
        let inputs = [Array("a.png\nsub/b.jpg\n".utf8), Array("[\"a.png\", \"b.png\"]".utf8), Array("a.png\r\nb.png\r\n".utf8)]
        let outcome = Fuzz.run("filenames", inputs: inputs, seed: 15) { bytes in
            try AtomicFile.write(bytes, to: folder + "/filenames.json")
            #expect(!(try TripletListImport.readNames(folder + "/filenames.json")).isEmpty)
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func pngAndJpegHeaders() throws {
        let picture = ImageFixtures.picture(shape: 0, tone: 1, height: 2, width: 24, height: 16, rgb: true, seed: 1)
        let inputs = [try ImageEncoder.png(picture), try ImageEncoder.jpeg(picture)]
        let outcome = Fuzz.run("images", inputs: inputs, seed: 16) { bytes in
            for channels in [1, 3] {
                let image = try ImageDecoder.decode(bytes, channels: channels, minimumSide: 8, source: "fuzz")
                #expect(image.pixels.count == image.width * image.height * channels)
                #expect(image.width * image.height <= ImageDecoder.maxPixels)
            }
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }
}

@Suite struct OrdinalBoundaryTests {
    /// Decimal values at the threshold's boundary (0.825 and 0.875 within 0.05): the sampler and
    /// the check use one predicate, so every drawn triplet passes the check.
    @Test func theSamplerAndTheCheckAgreeAtTheBoundary() throws {
        let dataset = try TestSupport.smallDataset()
        let size = try dataset.conditionIndex(named: "size")
        let sampler = try TripletSampler(dataset: dataset, split: .train)
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<2000 {
            let t = sampler.sample(condition: size, using: &generator)
            let condition = dataset.conditions[size]
            #expect(condition.alike(Int(t.anchor), Int(t.positive)) && !condition.alike(Int(t.anchor), Int(t.negative)), "\(t)")
        }
        // The search's number terms follow the same rule: every match is alike to the number.
        let matches = try ImageQuery.search("size:0.825", in: dataset)
        let values = dataset.conditions[size]
        guard case .ordinal(let numbers, let threshold) = values.rule else { Issue.record("size is ordinal"); return }
        #expect(!matches.isEmpty && matches.allSatisfy { Condition.within(numbers[Int($0)], 0.825, threshold: threshold) })
        #expect(matches.count == (0..<dataset.count).filter { Condition.within(numbers[$0], 0.825, threshold: threshold) }.count)
    }
}
