import Basics

/// Images with attributes: the data every command of csn trains on and explores.
///
/// `pixels` holds `count` images of `channels` x `imageSize` x `imageSize` bytes each (NCHW, one
/// byte per pixel, 0 = background, 255 = ink). Each image belongs to a group (for fonts, its font)
/// and to the split of its group. Fonts datasets order images font by font, 62 characters each,
/// so image `f * 62 + c` is character `c` of font `f`.
public struct ImageDataset: Sendable {
    public var imageSize: Int
    public var channels: Int
    public var pixels: [UInt8]
    public var imageNames: [String]
    public var conditions: [Condition]
    /// One group index per image, into `groupNames`.
    public var groups: [Int32]
    public var groupNames: [String]
    public var splits: [Split]
    /// Fixed training triplets, for data that came with its own lists (the paper's triplet files);
    /// empty when training draws triplets from the attributes.
    public var trainTriplets: TripletList
    /// Fixed evaluation triplets, deterministic from the seed the dataset was built with.
    public var valTriplets: TripletList
    public var testTriplets: TripletList
    /// Per-font attributes read from the font files (empty for other datasets).
    public var fonts: [FontInfo]
    /// Free-form facts about how the dataset was made (command, seed, skip counts).
    public var provenance: [String: String]

    public init(imageSize: Int, channels: Int, pixels: [UInt8], imageNames: [String], conditions: [Condition],
                groups: [Int32], groupNames: [String], splits: [Split], trainTriplets: TripletList = TripletList(), valTriplets: TripletList = TripletList(),
                testTriplets: TripletList = TripletList(), fonts: [FontInfo] = [], provenance: [String: String] = [:]) {
        self.imageSize = imageSize
        self.channels = channels
        self.pixels = pixels
        self.imageNames = imageNames
        self.conditions = conditions
        self.groups = groups
        self.groupNames = groupNames
        self.splits = splits
        self.trainTriplets = trainTriplets
        self.valTriplets = valTriplets
        self.testTriplets = testTriplets
        self.fonts = fonts
        self.provenance = provenance
    }

    public var count: Int { imageNames.count }
    /// The largest side an image may have; 4096 x 4096 x 3 bytes keeps one image's size far from overflow.
    public static let maxImageSize = 4096
    public var bytesPerImage: Int { channels * imageSize * imageSize }

    /// The bytes of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[(index * bytesPerImage)..<((index + 1) * bytesPerImage)]
    }

    /// Image `index` as a picture for display or export: interleaved rows (grey, or R G B).
    public func interleavedImage(_ index: Int) -> DecodedImage {
        let planar = image(index)
        let plane = imageSize * imageSize
        var pixels = [UInt8](repeating: 0, count: bytesPerImage)
        for c in 0..<channels {
            for i in 0..<plane { pixels[i * channels + c] = planar[planar.startIndex + c * plane + i] }
        }
        return DecodedImage(width: imageSize, height: imageSize, channels: channels, pixels: pixels)
    }

    /// Image `index` in grey (luma for colour images), one byte per pixel: what the terminal shows.
    public func greyImage(_ index: Int) -> ArraySlice<UInt8> {
        let planar = image(index)
        guard channels == 3 else { return planar }
        let plane = imageSize * imageSize, base = planar.startIndex
        return ArraySlice((0..<plane).map { i in
            let luma = 0.299 * Float(planar[base + i]) + 0.587 * Float(planar[base + plane + i]) + 0.114 * Float(planar[base + 2 * plane + i])
            return UInt8(min(255, luma.rounded()))
        })
    }

    public func imageIndices(in split: Split) -> [Int32] {
        (0..<count).compactMap { splits[$0] == split ? Int32($0) : nil }
    }

    /// At most `count` images of a split (those `keep` accepts), a seeded choice, in index order.
    /// The split is shuffled before `keep` is asked, so that samples of one seed overlap.
    public func sample(_ count: Int, from split: Split, seed: UInt64, where keep: (Int) -> Bool = { _ in true }) -> [Int32] {
        var members = imageIndices(in: split)
        var generator = SeededGenerator(seed: seed)
        members.shuffle(using: &generator)
        var chosen: [Int32] = []
        for member in members where chosen.count < count && keep(Int(member)) { chosen.append(member) }
        return chosen.sorted()
    }

    /// The index of the condition called `name`, or an error that lists the known ones.
    public func conditionIndex(named name: String) throws -> Int {
        guard let index = conditions.firstIndex(where: { $0.name == name }) else {
            throw CSNError("unknown condition '\(name)'; this dataset has: \(conditions.map(\.name).joined(separator: ", "))")
        }
        return index
    }

    public func triplets(for split: Split) -> TripletList {
        switch split {
        case .val: valTriplets
        case .test: testTriplets
        case .train: trainTriplets
        }
    }

    /// Samples and stores the fixed val and test triplet lists (`perCondition` each), seeded.
    /// Returns warnings for conditions a split cannot give triplets for (tiny datasets).
    @discardableResult
    public mutating func sampleEvaluationTriplets(perCondition: Int, seed: UInt64) throws -> [String] {
        var generator = SeededGenerator(seed: seed ^ 0x5641_4C5F_5445_5354)
        let val = try TripletSampler(dataset: self, split: .val, requireAll: false)
        let test = try TripletSampler(dataset: self, split: .test, requireAll: false)
        valTriplets = val.sampleFixed(perCondition: perCondition, using: &generator)
        testTriplets = test.sampleFixed(perCondition: perCondition, using: &generator)
        var notes = (val.unavailable.sorted { $0.key < $1.key } + test.unavailable.sorted { $0.key < $1.key }).map(\.value)
        // A small split cannot give many different triplets: say how many of the fixed ones are distinct.
        for (split, list) in [(Split.val, valTriplets), (.test, testTriplets)] {
            for (c, condition) in conditions.enumerated() {
                let triplets = list.filtered(condition: c)
                let distinct = Set((0..<triplets.count).map { triplets[$0] }).count
                if triplets.count > 0 && distinct * 10 < triplets.count * 9 {
                    notes.append("the \(split) split's \(triplets.count) fixed triplets for '\(condition.name)' hold only \(distinct) distinct ones (the split has \(imageIndices(in: split).count) images)")
                }
            }
        }
        return notes
    }

    /// Checks that every part agrees with every other; `source` names the file in errors.
    public func validate(source: String) throws {
        let n = count
        func fail(_ message: String) -> CSNError { CSNError.file(source, message) }
        guard (1...Self.maxImageSize).contains(imageSize), channels == 1 || channels == 3 else {
            throw fail("image size \(imageSize) and \(channels) channel(s) are not supported")
        }
        guard CheckedSize.product(n, bytesPerImage) == pixels.count else {
            throw fail("the header says \(n) images of \(bytesPerImage) bytes but the pixel data has \(pixels.count) bytes")
        }
        guard groups.count == n, splits.count == n else {
            throw fail("groups (\(groups.count)) and splits (\(splits.count)) must have one entry per image (\(n))")
        }
        if let bad = groups.firstIndex(where: { $0 < 0 || Int($0) >= groupNames.count }) {
            throw fail("image \(bad) has group \(groups[bad]), but there are \(groupNames.count) groups")
        }
        guard !conditions.isEmpty else { throw fail("the dataset has no conditions") }
        // Names reach terminals and file names: control characters (escape sequences) are refused here, once.
        func checkNames(_ names: [String], _ what: String) throws {
            if let bad = names.firstIndex(where: { $0.unicodeScalars.contains(where: isTerminalControl) }) {
                throw fail("\(what) \(bad) ('\(names[bad].terminalSafe)') holds a control character")
            }
        }
        try checkNames(conditions.map(\.name), "condition name")
        try checkNames(imageNames, "image name")
        try checkNames(groupNames, "group name")
        var names = Set<String>()
        for condition in conditions {
            try checkNames(condition.valueNames, "value name of '\(condition.name)'")
            guard !condition.name.isEmpty, names.insert(condition.name).inserted else {
                throw fail("condition names must be distinct and not empty ('\(condition.name)')")
            }
            guard condition.labels.count == n else {
                throw fail("condition '\(condition.name)' has \(condition.labels.count) labels for \(n) images")
            }
            if let bad = condition.labels.firstIndex(where: { $0 < 0 || Int($0) >= condition.valueNames.count }) {
                throw fail("image \(bad) has value \(condition.labels[bad]) for condition '\(condition.name)', which has \(condition.valueNames.count) values")
            }
            if case .ordinal(let values, let threshold) = condition.rule {
                guard values.count == n, values.allSatisfy(\.isFinite), threshold.isFinite, threshold >= 0 else {
                    throw fail("ordinal condition '\(condition.name)' needs one finite number per image and a threshold of at least 0")
                }
            }
        }
        if conditions.contains(where: \.isListed) && trainTriplets.count == 0 {
            throw fail("conditions known only from triplet lists need a training list")
        }
        for split in Split.allCases where !splits.contains(split) {
            throw fail("the \(split) split is empty")
        }
        // With lists that came with the data, an image may serve in several splits' lists.
        let listsFollowSplits = trainTriplets.count == 0
        for split in Split.allCases {
            let list = triplets(for: split)
            for t in 0..<list.count {
                let triplet = list[t]
                let inRange = { (image: Int32) in image >= 0 && Int(image) < n }
                guard triplet.condition >= 0, Int(triplet.condition) < conditions.count,
                      inRange(triplet.anchor), inRange(triplet.positive), inRange(triplet.negative) else {
                    throw fail("\(split) triplet \(t) refers to a condition or image that does not exist")
                }
                let inSplit = { (image: Int32) in splits[Int(image)] == split }
                guard !listsFollowSplits || (inSplit(triplet.anchor) && inSplit(triplet.positive) && inSplit(triplet.negative)) else {
                    throw fail("\(split) triplet \(t) uses an image from another split")
                }
                let condition = conditions[Int(triplet.condition)]
                guard condition.isListed || (condition.alike(Int(triplet.anchor), Int(triplet.positive))
                                             && !condition.alike(Int(triplet.anchor), Int(triplet.negative))) else {
                    throw fail("\(split) triplet \(t) does not match its condition's labels")
                }
            }
        }
    }
}
