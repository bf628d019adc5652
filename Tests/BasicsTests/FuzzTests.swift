@testable import Basics
import Foundation
import Testing
import TestSupport

/// Seeded fuzzing of the parsers in Basics: every mutated input gives a value or a CSNError.
@Suite struct BasicsFuzzTests {
    @Test func safetensorsHeaders() {
        let archive = SafeTensorsArchive(tensors: [
            "w": SafeTensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]),
            "i": SafeTensor([7, 8] as [Int64], shape: [2]),
            "u": SafeTensor([1, 2, 3] as [UInt8], shape: [3, 1, 1]),
        ], metadata: ["format": "x", "list": "[1,2]"])
        let outcome = Fuzz.run("safetensors", inputs: [archive.encoded()], seed: 1) { bytes in
            let decoded = try SafeTensorsArchive(decoding: bytes, source: "fuzz")
            for (name, tensor) in decoded.tensors {
                // Whatever the header said, a decoded tensor's bytes match its shape.
                #expect(CheckedSize.product(tensor.shape + [tensor.dtype.byteCount]) == tensor.bytes.count, "\(name)")
            }
        }
        #expect(outcome.rejected > Fuzz.cases / 4, "\(outcome)")
    }

    @Test func gzipStreamsWithABound() {
        var generator = SeededGenerator(seed: 2)
        let text = (0..<4000).map { _ in UInt8(65 + generator.index(below: 4)) }
        let inputs = [Gzip.compress(text), Gzip.compress([UInt8](repeating: 0, count: 100_000))]
        let outcome = Fuzz.run("gzip", inputs: inputs, seed: 2) { bytes in
            let out = try Gzip.decompress(bytes, source: "fuzz", maxBytes: 200_000)
            #expect(out.count <= 200_000)
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func npyHeaders() {
        func npy(_ header: String, _ data: [Float]) -> [UInt8] {
            var h = Array(header.utf8)
            while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
            h.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
                + data.withUnsafeBytes { Array($0) }
        }
        let inputs = [npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [1, 2, 3, 4, 5, 6]),
                      npy("{'descr':'<f4','fortran_order':True,'shape':(3,2)}", [1, 2, 3, 4, 5, 6])]
        let outcome = Fuzz.run("npy", inputs: inputs, seed: 3) { bytes in
            let (values, dimension) = try NumpyArray.floats(bytes, source: "fuzz", maxBytes: 1 << 20)
            #expect(dimension > 0 && values.count % dimension == 0 && values.allSatisfy(\.isFinite))
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func vectorText() {
        let inputs = [Array("1\t2\t3\n4\t5\t6\n".utf8), Array("\u{FEFF}0.5,1e-3\r\n-2,3\r\n".utf8), Array("1 2\n\n3 4".utf8)]
        let outcome = Fuzz.run("tsv", inputs: inputs, seed: 4) { bytes in
            let (values, dimension) = try VectorFile.read(bytes, source: "fuzz", numpy: false, maxBytes: 1 << 20)
            #expect(dimension > 0 && values.count % dimension == 0 && values.allSatisfy(\.isFinite))
        }
        #expect(outcome.rejected > 0 && outcome.accepted > 0, "\(outcome)")
    }
}

@Suite struct BoundedReadTests {
    @Test func aLyingGzipTrailerAllocatesNothing() throws {
        // 18 bytes whose trailer claims 4 GB: an empty deflate block, then ISIZE = 0xFFFFFFF0.
        let bytes: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x03, 0x00, 0, 0, 0, 0, 0xF0, 0xFF]
        #expect(throws: CSNError.self) { try Gzip.decompress(bytes + [0xFF, 0xFF], source: "lie.gz") }
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 5_000_000))
        #expect(throws: CSNError("bomb.gz: decompresses to more than 1 MiB, the memory limit")) {
            try Gzip.decompress(bomb, source: "bomb.gz", maxBytes: 1 << 20)
        }
        #expect(try Gzip.decompress(bomb, source: "bomb.gz").count == 5_000_000)
        // What is reserved before inflating: never the trailer's 4 GB for an 18-byte file.
        #expect(Gzip.initialReservation(bytes + [0xFF, 0xFF], maxBytes: 8 << 30) == 1032 * 20)
        #expect(Gzip.initialReservation(bomb, maxBytes: 1 << 20) == 1 << 20)
    }

    @Test func concatenatedMembersAreReadAndTrailingDataIsRefused() throws {
        let a = Array("first member ".utf8), b = Array("second".utf8)
        #expect(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), source: "two.gz") == a + b)
        #expect(try Gzip.decompress(Gzip.compress(a) + [0, 0, 0, 0], source: "padded.gz") == a)
        #expect(throws: CSNError("junk.gz: holds 3 bytes of other data after the gzip stream")) {
            try Gzip.decompress(Gzip.compress(a) + [1, 2, 3], source: "junk.gz")
        }
    }

    @Test func namesCannotLeaveTheirFolder() throws {
        let root = TestSupport.temporaryDirectory()
        let outside = TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        try AtomicFile.write("x", to: root + "/images/inside.png")
        try AtomicFile.write("x", to: outside + "/secret.png")
        try FileManager.default.createSymbolicLink(atPath: root + "/images/link.png", withDestinationPath: outside + "/secret.png")
        let folder = try ConfinedFolder(root + "/images")
        #expect(try folder.resolve("inside.png").hasSuffix("/images/inside.png"))
        for name in ["../images/inside.png", outside + "/secret.png", "a/../../x.png"] {
            #expect(throws: CSNError.self, "\(name)") { try folder.resolve(name) }
        }
        #expect(throws: CSNError("\(root)/images/link.png: is a link that leads outside \(root)/images; give --allow-outside to read it")) {
            try folder.resolve("link.png")
        }
        #expect(try ConfinedFolder(root + "/images", allowOutside: true).resolve("link.png") == root + "/images/link.png")
    }

    @Test func devicesAndOversizedFilesAreRefused() throws {
        #expect(throws: CSNError("/dev/zero: is not a regular file")) { try AtomicFile.read("/dev/zero") }
        #expect(throws: CSNError("/tmp: is a folder, not a file")) { try AtomicFile.read("/tmp") }
        let path = TestSupport.temporaryDirectory() + "/big"
        try AtomicFile.write([UInt8](repeating: 1, count: 5000), to: path)
        #expect(throws: CSNError("\(path): holds 5000 bytes, more than the memory limit of 4096 bytes")) {
            try AtomicFile.read(path, maxBytes: 4096)
        }
    }

    @Test func crlfLinesAndAByteOrderMarkSplitLikePlainOnes() {
        let plain = TextLines.split(Array("a b\nc\n\nd".utf8)).map { "\($0.number):\($0.text)" }
        #expect(plain == ["1:a b", "2:c", "3:", "4:d"])
        #expect(TextLines.split(Array("\u{FEFF}a b\r\nc\r\n\r\nd\r\n".utf8)).map { "\($0.number):\($0.text)" } == plain)
        #expect(TextLines.split(Array("a b\rc\r\rd".utf8)).map { "\($0.number):\($0.text)" } == plain)
    }

    @Test func fortranOrderIsReadTransposedWithOrWithoutSpaces() throws {
        func npy(_ header: String) -> [UInt8] {
            let h = Array(header.utf8) + [0x0A]
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count), 0] + h + ([1, 2, 3, 4, 5, 6] as [Float]).withUnsafeBytes { Array($0) }
        }
        let c = try NumpyArray.floats(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), source: "c")
        #expect(c.values == [1, 2, 3, 4, 5, 6] && c.dimension == 3)
        // Column-major [[1, 3, 5], [2, 4, 6]] stored as 1 2 3 4 5 6.
        for header in ["{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "{'descr':'<f4','fortran_order':True,'shape':(2,3)}"] {
            let f = try NumpyArray.floats(npy(header), source: "f")
            #expect(f.values == [1, 3, 5, 2, 4, 6] && f.dimension == 3, "\(header)")
        }
        #expect(throws: CSNError("huge: shape (1099511627776, 1099511627776) is larger than the memory limit of 8 GiB")) {
            try NumpyArray.floats(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"), source: "huge")
        }
    }

    @Test func numbersWithANulByteAreNotNumbers() {
        #expect(Float.parse("1\u{0}2") == nil && Float.parse(" 1") == nil && Float.parse("") == nil && Float.parse("-2.5e3") == -2500)
        #expect(throws: CSNError("v.tsv:1: '1\\x002' is not a finite number")) {
            try VectorFile.read(Array("1\u{0}2\t3\n".utf8), source: "v.tsv", numpy: false)
        }
    }

    @Test func namesAreEscapedForTheTerminal() {
        #expect("plain name".terminalSafe == "plain name")
        #expect("\u{1B}[31mred\u{7}".terminalSafe == "\\x1B[31mred\\x07")
        #expect("a\u{202E}b".terminalSafe == "a\\u{202E}b")
    }
}
