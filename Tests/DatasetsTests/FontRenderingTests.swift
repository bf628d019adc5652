@testable import Datasets
import Basics
import Foundation
import Testing
import TestSupport

/// The renderer and attribute reader, on the DejaVu fonts that `make test` installs.
@Suite struct FontRenderingTests {
    let size = 32

    func render(_ file: String) throws -> [UInt8] {
        try GlyphRenderer.render(FontFace(path: TestSupport.dejavuDirectory + "/" + file), size: size).get()
    }

    /// Rows and columns that hold ink (value > 0) in glyph `c`.
    func inkBox(_ pixels: [UInt8], _ c: Character) -> (rows: ClosedRange<Int>, columns: ClosedRange<Int>) {
        let index = FontCharacters.all.firstIndex(of: c)!
        let area = size * size
        var rows: [Int] = [], columns: [Int] = []
        for y in 0..<size { for x in 0..<size where pixels[index * area + y * size + x] > 0 { rows.append(y); columns.append(x) } }
        return (rows.min()!...rows.max()!, columns.min()!...columns.max()!)
    }

    @Test func rendersAll62CharactersAntialiasedInsideTheMargin() throws {
        let pixels = try render("DejaVuSans.ttf")
        #expect(pixels.count == 62 * size * size)
        let margin = GlyphRenderer.margin(size: size)
        for c in FontCharacters.all {
            let box = inkBox(pixels, c)
            // Anti-aliased edge pixels may spill at most one pixel into the margin.
            #expect(box.rows.lowerBound >= margin - 1 && box.rows.upperBound <= size - margin, "\(c) rows \(box.rows)")
            #expect(box.columns.lowerBound >= margin - 1 && box.columns.upperBound <= size - margin, "\(c) columns \(box.columns)")
        }
        let greys = Set(pixels).filter { $0 > 0 && $0 < 255 }
        #expect(greys.count > 100, "antialiased edges give many grey levels, saw \(greys.count)")
    }

    @Test func size64RendersTheSameShapesAtTwiceTheResolution() throws {
        let font = try FontFace(path: TestSupport.dejavuSans)
        let small = try GlyphRenderer.render(font, size: 32).get()
        let large = try GlyphRenderer.render(try FontFace(path: TestSupport.dejavuSans), size: 64).get()
        #expect(large.count == 62 * 64 * 64)
        // Averaging 2x2 blocks of the 64-pixel 'A' gives nearly the 32-pixel one.
        let index = FontCharacters.all.firstIndex(of: "A")!
        var difference = 0
        for y in 0..<32 {
            for x in 0..<32 {
                let base = index * 4096 + 2 * y * 64 + 2 * x
                let mean = (Int(large[base]) + Int(large[base + 1]) + Int(large[base + 64]) + Int(large[base + 65])) / 4
                difference += abs(mean - Int(small[index * 1024 + y * 32 + x]))
            }
        }
        #expect(Double(difference) / 1024 < 20, "mean absolute difference \(Double(difference) / 1024)")
    }

    @Test func glyphsAreCentredOnTheirBoundingBox() throws {
        let pixels = try render("DejaVuSerif.ttf")
        for c in "AgjQ1y" {
            let box = inkBox(pixels, c)
            let rowCentre = Double(box.rows.lowerBound + box.rows.upperBound + 1) / 2
            let columnCentre = Double(box.columns.lowerBound + box.columns.upperBound + 1) / 2
            #expect(abs(rowCentre - Double(size) / 2) <= 1.0, "\(c): row centre \(rowCentre)")
            #expect(abs(columnCentre - Double(size) / 2) <= 1.0, "\(c): column centre \(columnCentre)")
        }
    }

    @Test func oneScalePerFontKeepsCaseAndProportions() throws {
        let pixels = try render("DejaVuSans.ttf")
        let height = { (c: Character) in self.inkBox(pixels, c).rows.count }
        // Lower case x-height letters are shorter than capitals; ascenders as tall as capitals.
        #expect(height("o") < height("O") - 4, "o \(height("o")) vs O \(height("O"))")
        #expect(height("x") < height("X") - 4)
        #expect(abs(height("l") - height("L")) <= 2)
        #expect(inkBox(pixels, "i").columns.count < inkBox(pixels, "m").columns.count)
    }

    @Test func attributesComeFromTheFont() throws {
        let bold = try FontFace(path: TestSupport.dejavuDirectory + "/DejaVuSans-Bold.ttf").attributes(name: "b")
        #expect(bold.weightClass == 700 && bold.weightBucket == 2 && !bold.italic && !bold.fixedPitch)
        #expect(bold.family == "DejaVu Sans" && bold.style == "Bold")
        let mono = try FontFace(path: TestSupport.dejavuDirectory + "/DejaVuSansMono.ttf").attributes(name: "m")
        #expect(mono.fixedPitch && mono.weightBucket == 1)
        let oblique = try FontFace(path: TestSupport.dejavuDirectory + "/DejaVuSans-Oblique.ttf").attributes(name: "o")
        #expect(oblique.italic && oblique.slantBucket == 1)
        let light = try FontFace(path: TestSupport.dejavuDirectory + "/DejaVuSans-ExtraLight.ttf").attributes(name: "l")
        #expect(light.weightClass == 200 && light.weightBucket == 0)
    }

    @Test func weightMappingAndNames() {
        let classes = [100: 0, 300: 0, 399: 0, 400: 1, 500: 1, 599: 1, 600: 2, 700: 2, 900: 2]
        for (weight, bucket) in classes {
            let info = FontInfo(name: "", family: "", style: "", file: "", faceIndex: 0, weightClass: weight, italic: false, fixedPitch: false)
            #expect(info.weightBucket == Int32(bucket), "weight \(weight)")
        }
        #expect(FontFace.weight(fromName: "ExtraBold") == 800)
        #expect(FontFace.weight(fromName: "Semi Bold Italic") == 600)
        #expect(FontFace.weight(fromName: "Light") == 300)
        #expect(FontFace.weight(fromName: "Bold") == 700)
        #expect(FontFace.weight(fromName: "Italic") == nil)
    }

    @Test func aFileFreeTypeCannotOpenIsNamed() throws {
        let folder = TestSupport.temporaryDirectory()
        let path = folder + "/broken.ttf"
        try AtomicFile.write(Array("this is not a font".utf8), to: path)
        #expect(throws: CSNError("\(path): FreeType cannot open this font file (error 2)")) { try FontFace(path: path) }
        // Named directly it is an error; found in a folder it is skipped and counted.
        var options = FontsDatasetOptions()
        options.fontsDirectories = [path]
        #expect(throws: CSNError.self) { try FontsDatasetBuilder.build(options) }
        try FileManager.default.copyItem(atPath: TestSupport.dejavuDirectory, toPath: folder + "/dejavu")
        options.fontsDirectories = [folder]
        options.tripletsPerCondition = 10
        let (_, report) = try FontsDatasetBuilder.build(options)
        #expect(report.skipped[FontSkipReason.unreadable.category] == [path])
    }

    @Test func duplicateFontsAreSkippedAndReported() throws {
        let folder = TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestSupport.dejavuDirectory, toPath: folder + "/a")
        try FileManager.default.copyItem(atPath: TestSupport.dejavuSans, toPath: folder + "/copy-of-sans.ttf")
        var options = FontsDatasetOptions()
        options.fontsDirectories = [folder]
        options.tripletsPerCondition = 10
        let (dataset, report) = try FontsDatasetBuilder.build(options)
        #expect(report.skipped[FontSkipReason.duplicate.category]?.count == 1)
        #expect(dataset.fonts.count == report.kept)
        #expect(Set(dataset.fonts.map(\.name)).count == dataset.fonts.count, "font names are unique")
    }

    @Test func balancedCapTrimsTheLargestFamilyFirst() {
        let families = Array(repeating: "Big", count: 10) + ["A", "B", "C"]
        let chosen = FontsDatasetBuilder.balancedChoice(families: families, count: 6, seed: 1)
        #expect(chosen.count == 6)
        #expect(chosen.filter { $0 >= 10 }.count == 3, "every small family kept")
        #expect(chosen == FontsDatasetBuilder.balancedChoice(families: families, count: 6, seed: 1))
    }
}
