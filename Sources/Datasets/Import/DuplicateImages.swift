/// Exact duplicate images: the same pixels after fitting (icon themes alias one picture under
/// several names with links, and a photo may be listed twice under two ids). A duplicate in
/// another split puts the same picture in training and test.
public enum DuplicateImages {
    /// Groups of two or more images with identical bytes, each group in index order.
    public static func groups(pixels: [UInt8], bytesPerImage: Int, count: Int) -> [[Int]] {
        guard bytesPerImage > 0 else { return [] }
        var byHash: [Int: [Int]] = [:]
        pixels.withUnsafeBufferPointer { all in
            for i in 0..<count {
                byHash[Self.hash(UnsafeBufferPointer(rebasing: all[(i * bytesPerImage)..<((i + 1) * bytesPerImage)])), default: []].append(i)
            }
        }
        var groups: [[Int]] = []
        for candidates in byHash.values where candidates.count > 1 {
            // Equal hashes are checked byte by byte: split each candidate list into true equals.
            var rest = candidates
            while let first = rest.first {
                let same = rest.filter { equal(pixels, first, $0, bytesPerImage) }
                if same.count > 1 { groups.append(same) }
                rest.removeAll { same.contains($0) }
            }
        }
        return groups.sorted { $0[0] < $1[0] }
    }

    /// The images that have an exact duplicate in another split.
    public static func acrossSplits(_ groups: [[Int]], splits: [Split]) -> [[Int]] {
        groups.filter { group in Set(group.map { splits[$0] }).count > 1 }
    }

    static func equal(_ pixels: [UInt8], _ a: Int, _ b: Int, _ size: Int) -> Bool {
        pixels[(a * size)..<((a + 1) * size)].elementsEqual(pixels[(b * size)..<((b + 1) * size)])
    }

    /// FNV-1a over the bytes: fixed across runs, unlike Hasher, so reports repeat.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: h)
    }
}
