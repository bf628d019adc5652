import Basics
@testable import Datasets
import Foundation
import Testing
import TestSupport

@Suite struct AttributeTableTests {
    func table(_ text: String) throws -> AttributeTable { try AttributeTable(csv: Array(text.utf8), source: "a.csv") }

    @Test func readsQuotedFieldsAndLineEndings() throws {
        let t = try table("\u{FEFF}path,name\r\n\"x, y.jpg\",\"say \"\"hi\"\"\"\r\n\n\"multi\nline.png\",b\nlast.png,c")
        #expect(t.header == ["path", "name"])
        #expect(t.rows.map(\.fields) == [["x, y.jpg", "say \"hi\""], ["multi\nline.png", "b"], ["last.png", "c"]])
        // Rows keep the line they start on; the blank line 3 is no row.
        #expect(t.rows.map(\.line) == [2, 4, 6])
        #expect(try t.column("name") == 1)
    }

    @Test func structuralFaultsNameTheLine() {
        #expect(throws: CSNError("a.csv:3: a quoted field is never closed")) { try table("p,q\na,b\n\"open,c\n") }
        #expect(throws: CSNError("a.csv:2: text follows a closing quote; a quote inside a quoted field is written twice (\"\")")) {
            try table("p,q\n\"a\"b,c\n")
        }
        #expect(throws: CSNError("a.csv:2: a quote inside an unquoted field; quote the whole field and double the quote (\"\")")) {
            try table("p,q\nab\"c,d\n")
        }
        #expect(throws: CSNError("a.csv:1: the header names column 'p' twice")) { try table("p,p\n") }
        #expect(throws: CSNError("a.csv: the file is empty; expected a header line")) { try table("") }
        #expect(throws: CSNError("a.csv: no column 'colour'; the header has: p, q")) { try table("p,q\n").column("colour") }
    }
}

@Suite struct ImageCodecTests {
    let grey = ImageFixtures.picture(shape: 0, tone: 0, height: 3, width: 30, height: 20, rgb: false, seed: 1)
    let colour = ImageFixtures.picture(shape: 1, tone: 1, height: 2, width: 25, height: 31, rgb: true, seed: 2)

    @Test func pngRoundTripIsExact() throws {
        #expect(try ImageDecoder.decode(ImageEncoder.png(grey), channels: 1, source: "g.png") == grey)
        #expect(try ImageDecoder.decode(ImageEncoder.png(colour), channels: 3, source: "c.png") == colour)
        // Colour read as grey: one channel, the same size.
        let asGrey = try ImageDecoder.decode(ImageEncoder.png(colour), channels: 1, source: "c.png")
        #expect(asGrey.channels == 1 && asGrey.width == 25 && asGrey.height == 31)
    }

    @Test func jpegRoundTripIsClose() throws {
        for image in [grey, colour] {
            let decoded = try ImageDecoder.decode(ImageEncoder.jpeg(image, quality: 95), channels: image.channels, source: "x.jpg")
            #expect(decoded.width == image.width && decoded.height == image.height)
            let error = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
            #expect(Double(error) / Double(image.pixels.count) < 4, "mean abs error \(Double(error) / Double(image.pixels.count))")
        }
    }

    @Test func largeJpegsAreShrunkWhileDecoding() throws {
        let big = ImageFixtures.picture(shape: 2, tone: 0, height: 4, width: 400, height: 300, rgb: false, seed: 3)
        let decoded = try ImageDecoder.decode(ImageEncoder.jpeg(big), channels: 1, minimumSide: 64, source: "big.jpg")
        // 400 / 4 = 100 >= 64 but 400 / 8 = 50 < 64.
        #expect(decoded.width == 100 && decoded.height == 75)
    }

    @Test func badBytesNameTheFile() throws {
        let jpeg = try ImageEncoder.jpeg(grey), png = try ImageEncoder.png(grey)
        #expect(throws: CSNError("t.jpg: cannot decode the JPEG: Premature end of JPEG file")) {
            try ImageDecoder.decode(Array(jpeg.prefix(jpeg.count / 2)), channels: 1, source: "t.jpg")
        }
        #expect(performing: { try ImageDecoder.decode(Array(png.prefix(60)), channels: 1, source: "t.png") },
                throws: { ($0 as? CSNError)?.description.hasPrefix("t.png: cannot decode the PNG: ") == true })
        #expect(throws: CSNError("n.jpg: not a JPEG or PNG image")) { try ImageDecoder.decode(Array("GIF89a".utf8), channels: 1, source: "n.jpg") }
        #expect(throws: CSNError("e.png: the file is empty")) { try ImageDecoder.decode([], channels: 1, source: "e.png") }
    }
}

@Suite struct ImageFitterTests {
    @Test func aSquareOfTheRightSizeIsUnchanged() {
        let image = ImageFixtures.picture(shape: 0, tone: 0, height: 2, width: 32, height: 32, rgb: false, seed: 4)
        #expect(ImageFitter.fit(image, size: 32) == image.pixels)
    }

    @Test func areaAveragingAndPaddingWithTheBorderColour() {
        // 4 x 2 -> fits 2 x 1 into a 2 x 2 square: each output pixel averages a 2 x 2 block.
        let image = DecodedImage(width: 4, height: 2, channels: 1, pixels: [0, 100, 200, 200, 100, 200, 200, 200])
        let border = (0 + 100 + 200 + 200 + 100 + 200 + 200 + 200) / 8
        // Top row is the margin (the odd row goes below the image: top = (2 - 1) / 2 = 0).
        #expect(ImageFitter.fit(image, size: 2) == [100, 200, UInt8(border), UInt8(border)])
    }

    @Test func colourBecomesPlanar() {
        let image = DecodedImage(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        #expect(ImageFitter.fit(image, size: 2) == [10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30])
    }
}

@Suite struct OrdinalSamplingTests {
    @Test func alikeWithinTheThresholdUnlikeBeyondIt() throws {
        let values: [Float] = (0..<60).map { Float($0 % 12) * 0.5 }
        let condition = Condition.ordinal(name: "heel", values: values, threshold: 1)
        #expect(condition.valueNames.first == "0" && condition.valueNames.count == 12)
        let dataset = ImageDataset(imageSize: 1, channels: 1, pixels: [UInt8](repeating: 0, count: 60), imageNames: (0..<60).map { "\($0)" },
                                   conditions: [condition], groups: (0..<60).map { Int32($0) }, groupNames: (0..<60).map { "\($0)" },
                                   splits: (0..<60).map { $0 < 40 ? .train : $0 < 50 ? .val : .test })
        let sampler = try TripletSampler(dataset: dataset, split: .train)
        var generator = SeededGenerator(seed: 5)
        var anchors = Set<Int32>(), gaps = Set<Float>()
        for _ in 0..<3000 {
            let t = sampler.sample(condition: 0, using: &generator)
            let a = values[Int(t.anchor)], p = values[Int(t.positive)], n = values[Int(t.negative)]
            #expect(abs(a - p) <= 1 && abs(a - n) > 1 && t.anchor != t.positive)
            #expect(dataset.splits[Int(t.anchor)] == .train && dataset.splits[Int(t.negative)] == .train)
            anchors.insert(t.anchor)
            gaps.insert(abs(a - p))
        }
        // Every train image can anchor, and positives come from the whole window, not one value.
        #expect(anchors.count == 40)
        #expect(gaps == [0, 0.5, 1])
    }
}

@Suite struct FolderImportTests {
    func options(_ directory: String) -> FolderImportOptions {
        var options = FolderImportOptions(imagesDirectory: directory, conditions: ["shape", "tone", "height"])
        options.ordinalThresholds = ["height": 1]
        options.tripletsPerCondition = 50
        // Small fixtures: big enough val and test splits to hold every value.
        options.valFraction = 0.25
        options.testFraction = 0.25
        return options
    }

    @Test func importsJpegAndPngWithAttributes() throws {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory)
        let table = try AttributeTable(csv: AtomicFile.read(csv), source: csv)
        var options = options(directory)
        options.splitColumn = "product"
        let (dataset, report) = try FolderDatasetBuilder.build(table: table, options: options)
        #expect(dataset.count == 48 && report.imported == 48 && report.skippedTotal == 0)
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        #expect(dataset.imageNames[2] == "images/bar/img 2.png")
        #expect(dataset.conditions.map(\.name) == ["shape", "tone", "height"])
        #expect(dataset.conditions[0].valueNames == ["bar", "disc", "square"])
        let heights: [Float] = (0..<48).map { (i: Int) -> Float in Float(1 + (i / 6) % 4) }
        #expect(dataset.conditions[2].rule == Condition.Rule.ordinal(values: heights, threshold: 1))
        // Both images of a product share a split.
        for i in stride(from: 0, to: 48, by: 2) { #expect(dataset.splits[i] == dataset.splits[i + 1]) }
        // The fitted image keeps the drawing: dark ink in the middle, white margin.
        let middle = dataset.image(0)[dataset.image(0).startIndex + 16 * 32 + 16]
        #expect(middle < 60 && dataset.image(0).first! > 200)
        // Saved and loaded, the ordinal rule survives.
        let path = directory + "/out.safetensors.gz"
        try dataset.save(to: path)
        let loaded = try ImageDataset.load(from: path)
        #expect(loaded.conditions == dataset.conditions && loaded.pixels == dataset.pixels && loaded.valTriplets == dataset.valTriplets)
    }

    @Test func colourAndSixtyFourPixels() throws {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory, count: 24, rgb: true)
        var options = options(directory)
        options.color = true
        options.imageSize = 64
        let (dataset, _) = try FolderDatasetBuilder.build(table: try AttributeTable(csv: AtomicFile.read(csv), source: csv), options: options)
        #expect(dataset.channels == 3 && dataset.imageSize == 64 && dataset.pixels.count == 24 * 3 * 64 * 64)
        #expect(dataset.greyImage(0).count == 64 * 64)
    }

    /// Writes the fixture with `edit` applied to the CSV text, and imports it.
    func importEdited(skipBad: Bool = false, conditions: [String]? = nil, _ edit: (String, String) throws -> String) throws -> (ImageDataset, ImportReport) {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory, count: 24)
        try AtomicFile.write(try edit(try String(contentsOfFile: csv, encoding: .utf8), directory), to: csv)
        var options = options(directory)
        options.skipBad = skipBad
        if let conditions { options.conditions = conditions; options.ordinalThresholds = [:] }
        return try FolderDatasetBuilder.build(table: try AttributeTable(csv: AtomicFile.read(csv), source: "attributes.csv"), options: options)
    }

    @Test func badRowsNameTheLineOrAreSkippedAndCounted() throws {
        let ragged = { (text: String, _: String) in text.replacingOccurrences(of: "images/disc/img3.jpg,disc,light,1,p1", with: "images/disc/img3.jpg,disc,light") }
        #expect(throws: CSNError("attributes.csv:5: the row has 3 field(s) but the header has 5")) { try importEdited(ragged) }
        let (dataset, report) = try importEdited(skipBad: true, ragged)
        #expect(dataset.count == 23 && report.skipped == ["ragged rows": 1])

        #expect(throws: CSNError("attributes.csv:2: no value for 'tone'")) {
            try importEdited { text, _ in text.replacingOccurrences(of: "img0.jpg,disc,dark", with: "img0.jpg,disc,") }
        }
        #expect(throws: CSNError("attributes.csv:3: 'tall' in column 'height' is not a number (the condition is ordinal)")) {
            try importEdited { text, _ in text.replacingOccurrences(of: "img1.jpg,square,dark,1", with: "img1.jpg,square,dark,tall") }
        }
        #expect(throws: CSNError("attributes.csv:3: 'images/disc/img0.jpg' is named again (first on line 2)")) {
            try importEdited { text, _ in text.replacingOccurrences(of: "images/square/img1.jpg", with: "images/disc/img0.jpg") }
        }
        #expect(throws: CSNError("attributes.csv: no column 'shape'; the header has: file, form, tone, height, product")) {
            try importEdited { text, _ in text.replacingOccurrences(of: "file,shape", with: "file,form") }
        }
        #expect(throws: CSNError("attributes.csv: condition 'tone' has the single value 'dark', so it cannot tell images apart")) {
            try importEdited(conditions: ["shape", "tone"]) { text, _ in text.replacingOccurrences(of: "light", with: "dark") }
        }
    }

    @Test func badImagesNameTheFileAndTheRow() throws {
        var folder = ""
        let truncate = { (text: String, directory: String) throws -> String in
            folder = directory
            let path = directory + "/images/square/img4.jpg"
            let bytes = try AtomicFile.read(path)
            try AtomicFile.write(Array(bytes.prefix(bytes.count / 3)), to: path)
            return text
        }
        #expect(performing: { try importEdited(truncate) }, throws: { error in
            (error as? CSNError)?.description == "\(folder)/images/square/img4.jpg: cannot decode the JPEG: Premature end of JPEG file (named on attributes.csv:6)"
        })
        let (_, skipped) = try importEdited(skipBad: true, truncate)
        #expect(skipped.skipped == ["unreadable images": 1] && skipped.imported == 23)

        let missing = { (text: String, _: String) in text + "images/none.jpg,disc,dark,1,p9\n" }
        #expect(performing: { try importEdited(missing) }, throws: { error in
            (error as? CSNError)?.description.hasSuffix("/images/none.jpg: no such file (named on attributes.csv:26)") == true
        })
        // Images the table does not name are left out with a warning.
        let (dataset, report) = try importEdited { text, _ in text.replacingOccurrences(of: "images/disc/img9.jpg,disc,light,2,p4\n", with: "") }
        #expect(dataset.count == 23)
        #expect(report.notes.first?.contains("1 image file(s) in") == true && report.notes.first?.hasSuffix("(e.g. images/disc/img9.jpg)") == true)
    }
}

@Suite struct ZapposTests {
    @Test func readsTheLayoutAndThePapersConditions() throws {
        let root = TestSupport.temporaryDirectory()
        try ImageFixtures.zapposTree(at: root)
        let located = try ZapposLayout.locate(root: root)
        #expect(located.leftOut == ["no image for the CID": 1, "blank or unreadable HeelHeight": 1])
        #expect(located.table.header == ["path", "Category", "Gender", "HeelHeight", "Closure"])
        var options = FolderImportOptions(imagesDirectory: located.imagesDirectory, conditions: ZapposLayout.conditions)
        options.ordinalThresholds = ["HeelHeight": ZapposLayout.heelThreshold]
        options.color = true
        options.tripletsPerCondition = 20
        let (dataset, _) = try FolderDatasetBuilder.build(table: located.table, options: options)
        #expect(dataset.count == 35 && dataset.channels == 3)
        #expect(dataset.conditions[1].valueNames == ["Men", "Men;Women", "Women"])
        #expect(dataset.conditions[3].valueNames == ["Buckle", "Lace up", "Slip-On"])
        #expect(dataset.conditions[2].valueNames == ["0", "0.5", "1.375", "2.375", "3.375", "5"])
    }

    @Test func heelHeightWordings() {
        #expect(ZapposLayout.heelInches("Flat") == 0)
        #expect(ZapposLayout.heelInches("Heel.Under 1in") == 0.5)
        #expect(ZapposLayout.heelInches("1in - 1 3/4in") == 1.375)
        #expect(ZapposLayout.heelInches("5in & over") == 5)
        #expect(ZapposLayout.heelInches("unknown") == nil)
    }

    @Test func aMissingFolderSaysWhatItLookedFor() {
        let root = TestSupport.temporaryDirectory()
        #expect(throws: CSNError("\(root): no ut-zap50k-images folder here (looked for \(root)/ut-zap50k-images and \(root)/ut-zap50k-images-square)")) {
            try ZapposLayout.locate(root: root)
        }
    }
}

@Suite struct ImageQueryTests {
    let dataset = TestSupport.dejavuDataset

    func value(_ condition: String, _ image: Int32) -> String {
        let c = dataset.conditions[try! dataset.conditionIndex(named: condition)]
        return c.valueNames[Int(c.labels[Int(image)])]
    }

    @Test func termsPrefixesAndCase() throws {
        let g = try ImageQuery.search("char:g", in: dataset)
        #expect(!g.isEmpty && g.allSatisfy { value("character", $0) == "g" })
        // Test split first, then val, then train.
        let order: [Split: Int] = [.test: 0, .val: 1, .train: 2]
        #expect(g.map { order[dataset.splits[Int($0)]]! } == g.map { order[dataset.splits[Int($0)]]! }.sorted())
        // A value with spaces, and a prefix that takes every face of a family.
        let mono = try ImageQuery.search("font:dejavu sans mono ch:G", in: dataset)
        #expect(!mono.isEmpty && mono.allSatisfy { value("font", $0).hasPrefix("DejaVu Sans Mono") && value("character", $0) == "G" })
        #expect(try ImageQuery.search("#12", in: dataset) == [12])
        #expect(throws: CSNError("no condition 'colour'; this dataset has: character, font, weight, slant")) { try ImageQuery.search("colour:red", in: dataset) }
        #expect(throws: CSNError("no font value matches 'Lato'")) { try ImageQuery.search("font:Lato", in: dataset) }
        #expect(throws: CSNError("'#99999' is not an image index (0...\(dataset.count - 1))")) { try ImageQuery.search("#99999", in: dataset) }
        // A plain word matches image names.
        #expect(try ImageQuery.search("Mono", in: dataset).allSatisfy { dataset.imageNames[Int($0)].contains("Mono") })
    }
}
