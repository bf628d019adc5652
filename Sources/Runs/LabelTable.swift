import Basics
import Datasets
import Foundation

/// Labels for vectors from the TensorBoard Projector's `metadata.tsv`: a header row naming the
/// columns, then one row per vector. (A file with one column has no header, as the Projector
/// reads it; that column is called `label`.) A column named image, path, name or file gives the
/// rows' names; every other column is a condition. A column whose values are all numbers, with
/// more than a handful of distinct values, is ordinal: coloured on a ramp in maps.
public struct LabelTable: Sendable {
    public var columnNames: [String]
    /// Row-major fields, `rows` x `columnNames.count`.
    public var fields: [String]
    public var rows: Int
    public let source: String

    public init(columnNames: [String], fields: [String], rows: Int, source: String) {
        self.columnNames = columnNames
        self.fields = fields
        self.rows = rows
        self.source = source
    }

    public static let nameColumns: Set<String> = ["image", "path", "name", "file", "filename"]
    /// Distinct numeric values above which a number column is ordinal rather than categorical.
    static let ordinalAbove = 12

    public static func read(_ path: String, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> LabelTable {
        let lines = TextLines.split(try AtomicFile.read(path, maxBytes: maxBytes)).filter { !$0.text.isEmpty }
        guard let first = lines.first else { throw CSNError.file(path, "holds no rows") }
        let width = first.text.split(separator: "\t", omittingEmptySubsequences: false).count
        let hasHeader = width > 1
        let columnNames = hasHeader ? first.text.split(separator: "\t", omittingEmptySubsequences: false).map { String($0).trimmingSpaces } : ["label"]
        if let empty = columnNames.firstIndex(where: \.isEmpty) { throw CSNError.file("\(path):1", "column \(empty + 1) has no name") }
        if Set(columnNames).count != columnNames.count { throw CSNError.file("\(path):1", "names a column twice") }
        var fields: [String] = []
        fields.reserveCapacity(lines.count * width)
        for (number, text) in lines.dropFirst(hasHeader ? 1 : 0) {
            let row = text.split(separator: "\t", omittingEmptySubsequences: false)
            guard row.count == width else {
                throw CSNError.file("\(path):\(number)", "has \(row.count) fields, but the header has \(width)")
            }
            fields.append(contentsOf: row.map { String($0).trimmingSpaces })
        }
        return LabelTable(columnNames: columnNames, fields: fields, rows: fields.count / width, source: path)
    }

    public var nameColumn: Int? { columnNames.firstIndex { Self.nameColumns.contains($0.lowercased()) } }
    public var conditionColumns: [Int] { columnNames.indices.filter { $0 != nameColumn } }

    public func field(row: Int, column: Int) -> String { fields[row * columnNames.count + column] }

    /// The rows' names (from the name column), or nil.
    public func rowNames() -> [String]? {
        nameColumn.map { column in (0..<rows).map { field(row: $0, column: column).terminalSafe } }
    }

    /// Column `column` as a condition: categorical, or ordinal when every value is a number and
    /// there are many of them. An empty field is its own value ("(none)").
    public func condition(column: Int) -> Condition {
        let name = columnNames[column].terminalSafe
        let values = (0..<rows).map { field(row: $0, column: column) }
        let numbers = values.compactMap { Float.parse(Substring($0)) }.filter(\.isFinite)
        if numbers.count == rows, Set(numbers).count > Self.ordinalAbove {
            return Condition.ordinal(name: name, values: numbers, threshold: 0)
        }
        var index: [String: Int32] = [:]
        var names: [String] = []
        let labels = values.map { value -> Int32 in
            let shown = value.isEmpty ? "(none)" : value.terminalSafe
            if let known = index[shown] { return known }
            index[shown] = Int32(names.count)
            names.append(shown)
            return Int32(names.count - 1)
        }
        return Condition(name: name, valueNames: names, labels: labels)
    }
}
