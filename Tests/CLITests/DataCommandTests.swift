import Foundation
import Testing
import TestSupport

/// `csn data ...` run as a person would: the real binary, its output and exit status.
@Suite struct DataCommandTests {
    let data = TestSupport.dejavuDatasetFile

    @Test func showPrintsAttributesAndGlyphs() throws {
        let result = try TestSupport.runCSN(["data", "show", "--data", data, "--font", "DejaVu Sans Bold", "--chars", "Ag"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("font ") && lines[0].contains(": DejaVu Sans Bold  ["))
        #expect(lines[2] == "  weight class 700 -> bold, upright, proportional")
        // Not a terminal: the ASCII ramp, no escape codes; 16 columns per glyph at half size.
        #expect(!result.stdout.contains("\u{1B}["))
        // 32 px glyphs at half size: 8 lines of two 16-column glyphs, then the captions.
        let art = Array(lines[4..<12])
        #expect(art.allSatisfy { $0.count <= 33 } && art.contains { $0.count > 17 }, "\(art)")
        #expect(art.filter { $0.contains("@") }.count >= 4, "\(art)")
        #expect(lines[12].hasPrefix("A") && lines[12].dropFirst(17).hasPrefix("g"))
    }

    @Test func statsCountsPerValueAndSplit() throws {
        let result = try TestSupport.runCSN(["data", "stats", "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("condition weight: 3 values; triplets: val 500, test 500"))
        #expect(result.stdout.contains("condition character: 62 values"))
        #expect(result.stdout.contains("  images per split: train "))
    }

    @Test func badInputGivesOneLineAndANonZeroExit() throws {
        let cases: [([String], String)] = [
            (["data", "show", "--data", "/nonexistent.gz"], "Error: /nonexistent.gz: no such file"),
            (["data", "show", "--data", data, "--font", "Zapfino"], "Error: --font 'Zapfino': no font of the dataset has that name"),
            (["data", "show", "--data", data, "--index", "999"], "Error: --index 999 is out of range: the dataset has"),
            (["data", "show", "--data", data, "--chars", "A!"], "Error: --chars: '!' is not one of 0-9, A-Z, a-z"),
            (["data", "fonts", "--size", "48", "--out", "/tmp/x.gz"], "Error: --size must be 32 or 64, not 48"),
            (["data", "fonts", "--fonts-dir", "/nonexistent-fonts", "--out", "/tmp/x.gz"], "Error: /nonexistent-fonts: no such folder"),
        ]
        for (arguments, expected) in cases {
            let result = try TestSupport.runCSN(arguments)
            #expect(result.status != 0, "\(arguments) exited 0")
            #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"), "\(arguments) crashed")
        }
    }

    @Test func fontsCommandWritesADatasetAtomically() throws {
        let folder = TestSupport.temporaryDirectory()
        let out = folder + "/dv.safetensors.gz"
        let result = try TestSupport.runCSN(["data", "fonts", "--fonts-dir", TestSupport.dejavuDirectory, "--triplets", "50", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(out): "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["dv.safetensors.gz"])
        let exported = try TestSupport.runCSN(["data", "export-triplets", "--data", out, "--out", folder + "/lists"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/lists/font_tripletlist_test.txt"))
    }
}
