import Basics
import Foundation

/// UT-Zappos50K as it unpacks: `ut-zap50k-images/Category/SubCategory/Brand/NNNNNNN.NNN.jpg` (or the
/// `-square` variant) and `ut-zap50k-data/meta-data.csv`, whose rows name an image by `CID`
/// (`NNNNNNN-NNN`). Turns that into an attribute table with the paper's four conditions.
public enum ZapposLayout {
    public static let conditions = ["Category", "Gender", "HeelHeight", "Closure"]
    /// Heel heights within an inch count as alike.
    public static let heelThreshold: Float = 1

    public struct Located: Sendable {
        public var imagesDirectory: String
        public var table: AttributeTable
        /// Rows left out and why (the meta-data leaves some attributes blank, some CIDs lack an image).
        public var leftOut: [String: Int]
    }

    public static func locate(root: String) throws -> Located {
        let fileManager = FileManager.default
        let imageCandidates = ["ut-zap50k-images", "ut-zap50k-images-square"].map { root + "/" + $0 }
        guard let images = imageCandidates.first(where: { fileManager.fileExists(atPath: $0) }) else {
            throw CSNError.file(root, "no ut-zap50k-images folder here (looked for \(imageCandidates.joined(separator: " and ")))")
        }
        let metaCandidates = ["ut-zap50k-data/meta-data.csv", "meta-data.csv"].map { root + "/" + $0 }
        guard let metaPath = metaCandidates.first(where: { fileManager.fileExists(atPath: $0) }) else {
            throw CSNError.file(root, "no meta-data.csv here (looked for \(metaCandidates.joined(separator: " and ")))")
        }
        let meta = try AttributeTable(csv: try AtomicFile.read(metaPath), source: metaPath)
        let cid = try meta.column("CID")
        let columns = try conditions.map(meta.column)

        // Image files by CID: the file name with its dot written as a dash.
        var pathByCID: [String: String] = [:]
        for relative in ImageLoader.imageFiles(under: images) {
            let stem = ((relative as NSString).lastPathComponent as NSString).deletingPathExtension
            pathByCID[stem.replacingOccurrences(of: ".", with: "-")] = relative
        }
        var rows: [AttributeTable.Row] = []
        var leftOut: [String: Int] = [:]
        for row in meta.rows {
            guard row.fields.count == meta.header.count else {
                throw CSNError.file("\(metaPath):\(row.line)", "the row has \(row.fields.count) field(s) but the header has \(meta.header.count)")
            }
            guard let path = pathByCID[row.fields[cid].trimmingSpaces] else { leftOut["no image for the CID", default: 0] += 1; continue }
            var fields = [path]
            for (name, column) in zip(conditions, columns) {
                let raw = row.fields[column].trimmingSpaces
                let value = name == "HeelHeight" ? heelInches(raw).map(Condition.formatNumber) : attribute(raw, column: name)
                guard let value, !value.isEmpty else { leftOut["blank or unreadable \(name)", default: 0] += 1; break }
                fields.append(value)
            }
            guard fields.count == conditions.count + 1 else { continue }
            rows.append(AttributeTable.Row(line: row.line, fields: fields))
        }
        return Located(imagesDirectory: images, table: AttributeTable(source: metaPath, header: ["path"] + conditions, rows: rows),
                       leftOut: leftOut)
    }

    /// One value of a categorical column: a "Column." prefix dropped; of a list ("a;b"), the first,
    /// except for Gender, where the combination ("Men;Women") is the paper's value.
    static func attribute(_ raw: String, column: String) -> String {
        let parts = column == "Gender" ? [raw] : raw.split(separator: ";").map(String.init)
        var value = parts.first ?? ""
        if value.hasPrefix(column + ".") { value.removeFirst(column.count + 1) }
        return value.trimmingSpaces
    }

    /// Heel height in inches from the meta-data's wording ("Flat", "Under 1in", "1in - 1 3/4in",
    /// "5in & over"): a range gives its middle; nil when no number can be read.
    static func heelInches(_ raw: String) -> Float? {
        let text = raw.lowercased().replacingOccurrences(of: "heel.", with: "")
        if text.contains("flat") { return 0 }
        var numbers: [Float] = []
        var tokens = text.replacingOccurrences(of: "-", with: " - ").replacingOccurrences(of: "in", with: " in ")
            .split(whereSeparator: { $0 == " " }).map(String.init)[...]
        while let token = tokens.popFirst() {
            if let whole = Float.parse(token) {
                var value = whole
                if let next = tokens.first, let fraction = fractionValue(next) { value += fraction; tokens.removeFirst() }
                numbers.append(value)
            } else if let fraction = fractionValue(token) {
                numbers.append(fraction)
            }
        }
        guard let first = numbers.first else { return nil }
        if text.contains("under") { return first / 2 }
        return numbers.count >= 2 ? (first + numbers[1]) / 2 : first
    }

    private static func fractionValue(_ token: String) -> Float? {
        let parts = token.split(separator: "/")
        guard parts.count == 2, let a = Float.parse(parts[0]), let b = Float.parse(parts[1]), b != 0 else { return nil }
        return a / b
    }
}
