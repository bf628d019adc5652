import Basics
import Foundation
import Testing
import TestSupport

@Suite struct SafeTensorsTests {
    func sampleArchive() -> SafeTensorsArchive {
        SafeTensorsArchive(tensors: [
            "weights": SafeTensor([1.5, -2, 3.25, 0] as [Float], shape: [2, 2]),
            "labels": SafeTensor([7, -1, 42] as [Int32], shape: [3]),
            "pixels": SafeTensor([0, 255, 128] as [UInt8], shape: [1, 3]),
        ], metadata: ["format": "test", "note": "{\"a\": [1, 2]}"])
    }

    @Test func roundTripKeepsEveryTensorAndTheMetadata() throws {
        let bytes = sampleArchive().encoded()
        let decoded = try SafeTensorsArchive(decoding: bytes, source: "mem")
        #expect(try decoded.floats("weights", shape: [2, 2], source: "mem") == [1.5, -2, 3.25, 0])
        #expect(try decoded.int32s("labels", source: "mem") == [7, -1, 42])
        #expect(try decoded.uint8s("pixels", source: "mem") == [0, 255, 128])
        #expect(decoded.metadata == ["format": "test", "note": "{\"a\": [1, 2]}"])
        // Data starts 8-byte aligned, as the reference writer does.
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        // Equal content gives equal bytes.
        #expect(sampleArchive().encoded() == bytes)
    }

    @Test func truncatedFileNamesTheFileAndTheTensor() throws {
        let bytes = sampleArchive().encoded()
        let error = #expect(throws: CSNError.self) {
            try SafeTensorsArchive(decoding: Array(bytes.dropLast(5)), source: "cut.safetensors")
        }
        #expect(error?.description.hasPrefix("cut.safetensors: tensor 'weights' ends at byte") == true)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test func garbageAndShortFilesAreRejected() {
        #expect(throws: CSNError("x: too short for a safetensors file (3 bytes)")) {
            try SafeTensorsArchive(decoding: [1, 2, 3], source: "x")
        }
        var bad = [UInt8](repeating: 0, count: 16)
        bad[0] = 4
        bad[8...11] = [0x7b, 0x7b, 0x7b, 0x7b]  // "{{{{" is no JSON object
        #expect(throws: CSNError("y: the safetensors header is not a JSON object")) {
            try SafeTensorsArchive(decoding: bad, source: "y")
        }
    }

    @Test func wrongDtypeOrShapeIsNamed() throws {
        let decoded = try SafeTensorsArchive(decoding: sampleArchive().encoded(), source: "m")
        #expect(throws: CSNError("m: tensor 'labels' is I32, expected F32")) { try decoded.floats("labels", source: "m") }
        #expect(throws: CSNError("m: tensor 'labels' has shape [3], expected [4]")) { try decoded.int32s("labels", shape: [4], source: "m") }
        #expect(throws: CSNError("m: missing tensor 'nothing'")) { try decoded.uint8s("nothing", source: "m") }
    }
}

@Suite struct GzipTests {
    @Test func roundTripOfCompressibleAndRandomBytes() throws {
        var generator = SeededGenerator(seed: 3)
        let random = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for input in [random, zeros, []] {
            let packed = Gzip.compress(input)
            #expect(try Gzip.decompress(packed, source: "t") == input)
        }
        #expect(Gzip.compress(zeros).count < 4096)
    }

    @Test func truncatedAndCorruptStreamsGiveErrors() throws {
        let packed = Gzip.compress(Array(repeating: 7, count: 50_000) + (0..<255).map { UInt8($0) })
        #expect(throws: CSNError("f.gz: truncated gzip data (the file ends early)")) {
            try Gzip.decompress(Array(packed.prefix(packed.count / 2)) + [0, 0, 0, 0], source: "f.gz")
        }
        #expect(throws: CSNError("f.gz: not a gzip file")) { try Gzip.decompress([1, 2, 3], source: "f.gz") }
        var corrupt = packed
        for i in 12..<min(40, corrupt.count - 8) { corrupt[i] ^= 0x5A }
        #expect(throws: CSNError.self) { try Gzip.decompress(corrupt, source: "f.gz") }
    }
}

@Suite struct AtomicFileTests {
    @Test func writeReplacesWholeAndLeavesNoTemporary() throws {
        let folder = TestSupport.temporaryDirectory()
        let path = folder + "/file.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write([4, 5], to: path)
        #expect(try AtomicFile.read(path) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["file.bin"])
    }

    @Test func failedWriteNamesThePathAndLeavesNothing() throws {
        let folder = TestSupport.temporaryDirectory()
        let error = #expect(throws: CSNError.self) { try AtomicFile.write([1], to: folder + "/missing/dir/x.bin") }
        #expect(error?.description.hasPrefix(folder + "/missing/dir/x.bin: cannot create") == true)
        #expect(throws: CSNError(folder + "/nope: no such file")) { try AtomicFile.read(folder + "/nope") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameStreamOtherSeedOtherStream() {
        var a = SeededGenerator(seed: 11), b = SeededGenerator(seed: 11), c = SeededGenerator(seed: 12)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        var restored = SeededGenerator(state: a.state)
        #expect(restored.next() == a.next())
    }

    @Test func normalDrawsHaveUnitMoments() {
        var generator = SeededGenerator(seed: 5)
        let draws = (0..<200_000).map { _ in Double(generator.normal()) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
        #expect(abs(mean) < 0.01, "mean \(mean)")
        #expect(abs(variance - 1) < 0.02, "variance \(variance)")
        let uniform = (0..<10_000).map { _ in generator.unitFloat() }
        #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}
