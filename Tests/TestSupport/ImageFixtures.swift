import Basics
import Datasets
import Foundation

/// Small image datasets on disk, drawn by the tests themselves: a folder of JPEG and PNG files with
/// a CSV of attributes, a UT-Zappos50K-shaped tree, and triplet files in the original format.
public enum ImageFixtures {
    public static let shapes = ["disc", "square", "bar"]
    public static let tones = ["dark", "light"]

    /// A picture of `shape` in `tone` on a white (or black) background, `height` (1...4) setting
    /// how tall the shape is; `width` x `height` pixels, grey or RGB.
    public static func picture(shape: Int, tone: Int, height: Int, width w: Int, height h: Int, rgb: Bool, seed: Int) -> DecodedImage {
        let channels = rgb ? 3 : 1
        var pixels = [UInt8](repeating: 255, count: w * h * channels)
        let ink: UInt8 = tone == 0 ? 20 : 150
        let cx = Double(w) / 2, cy = Double(h) / 2
        let extent = Double(min(w, h)) * (0.15 + 0.08 * Double(height))
        for y in 0..<h {
            for x in 0..<w {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let inside: Bool
                switch shape {
                case 0: inside = dx * dx + dy * dy < extent * extent
                case 1: inside = abs(dx) < extent && abs(dy) < extent
                default: inside = abs(dx) < extent * 0.3 && abs(dy) < extent
                }
                // A little seeded texture so that no two images are equal.
                let noise = UInt8((x * 7 + y * 13 + seed * 31) % 9)
                for c in 0..<channels {
                    let tint: UInt8 = rgb && c == seed % 3 ? 40 : 0
                    pixels[(y * w + x) * channels + c] = inside ? ink &+ noise &+ tint : 255 &- noise
                }
            }
        }
        return DecodedImage(width: w, height: h, channels: channels, pixels: pixels)
    }

    /// Writes `count` images (every third a PNG, the rest JPEG; sizes vary in aspect) under
    /// `directory/images/<shape>/` and `directory/attributes.csv` with columns
    /// file, shape, tone, height, product. Returns the CSV path.
    @discardableResult
    public static func imageFolder(at directory: String, count: Int = 48, rgb: Bool = false) throws -> String {
        var csv = "file,shape,tone,height,product\n"
        for i in 0..<count {
            let shape = i % 3, tone = (i / 3) % 2, height = 1 + (i / 6) % 4
            let sizes = [(48, 36), (36, 48), (40, 40)]
            let (w, h) = sizes[i % sizes.count]
            let image = picture(shape: shape, tone: tone, height: height, width: w, height: h, rgb: rgb, seed: i)
            let folder = "images/\(shapes[shape])"
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
            let name = i % 3 == 2 ? "\(folder)/img \(i).png" : "\(folder)/img\(i).jpg"
            let bytes = i % 3 == 2 ? try ImageEncoder.png(image) : try ImageEncoder.jpeg(image)
            try AtomicFile.write(bytes, to: directory + "/" + name)
            // Quote a name with a space, as spreadsheets do.
            let field = name.contains(" ") ? "\"\(name)\"" : name
            csv += "\(field),\(shapes[shape]),\(tones[tone]),\(height),p\(i / 2)\n"
        }
        let path = directory + "/attributes.csv"
        try AtomicFile.write(csv, to: path)
        return path
    }

    /// A tree shaped like UT-Zappos50K: ut-zap50k-images/Category/Sub/Brand/NNNN.NN.jpg and
    /// ut-zap50k-data/meta-data.csv. One row has a blank heel height and one CID has no image.
    public static func zapposTree(at root: String, count: Int = 36) throws {
        let categories = ["Shoes", "Boots", "Sandals"]
        let heels = ["Flat", "Under 1in", "1in - 1 3/4in", "2in - 2 3/4in", "3in - 3 3/4in", "5in & over"]
        let closures = ["Lace up", "Buckle;Zipper", "Slip-On"]
        let genders = ["Men", "Women", "Men;Women"]
        var csv = "CID,Category,SubCategory,HeelHeight,Insole,Closure,Gender,Material,ToeStyle\n"
        for i in 0..<count {
            let category = categories[i % 3]
            let cid = "\(7_000_000 + i)-\(100 + i)"
            let folder = "ut-zap50k-images/\(category)/Sub\(i % 2)/Brand\(i % 4)"
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            let image = picture(shape: i % 3, tone: (i / 3) % 2, height: 1 + i % 4, width: 34, height: 26, rgb: true, seed: i)
            try AtomicFile.write(try ImageEncoder.jpeg(image), to: root + "/\(folder)/\(cid.replacingOccurrences(of: "-", with: ".")).jpg")
            let heel = i == 5 ? "" : heels[(i / 2) % heels.count]
            csv += "\(cid),\(category),Sub\(i % 2),\(heel),Padded,\"\(closures[(i / 3) % 3])\",\"\(genders[i % 3])\",Leather,Round\n"
        }
        csv += "9999999-999,Shoes,Sub0,Flat,Padded,Lace up,Men,Leather,Round\n"
        try FileManager.default.createDirectory(atPath: root + "/ut-zap50k-data", withIntermediateDirectories: true)
        try AtomicFile.write(csv, to: root + "/ut-zap50k-data/meta-data.csv")
    }
}
