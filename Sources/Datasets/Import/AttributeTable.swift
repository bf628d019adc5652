import Basics

/// A table of image attributes read from CSV (RFC 4180: commas, fields in double quotes may hold
/// commas, newlines and doubled quotes). Rows keep the line they start on, for error messages.
///
/// Structural faults (an unclosed quote, text after a closing quote) fail the whole file; a row
/// with the wrong number of fields is kept as it is, so that the importer can name it or skip it.
public struct AttributeTable: Sendable {
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String]
    }

    public let source: String
    public let header: [String]
    public var rows: [Row]

    public init(source: String, header: [String], rows: [Row]) {
        self.source = source
        self.header = header
        self.rows = rows
    }

    /// The index of column `name`, or an error that lists the columns there are.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw CSNError.file(source, "no column '\(name)'; the header has: \(header.joined(separator: ", "))")
        }
        return index
    }

    public init(csv bytes: [UInt8], source: String) throws {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var records = try Self.parse(Array(text.unicodeScalars), source: source)
        guard !records.isEmpty else { throw CSNError.file(source, "the file is empty; expected a header line") }
        let header = records.removeFirst()
        let names = header.fields.map { $0.trimmingSpaces }
        if let empty = names.firstIndex(of: "") {
            throw CSNError.file("\(source):\(header.line)", "column \(empty + 1) of the header has no name")
        }
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw CSNError.file("\(source):\(header.line)", "the header names column '\(name)' twice")
        }
        self.init(source: source, header: names, rows: records)
    }

    private static func parse(_ scalars: [Unicode.Scalar], source: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1, rowLine = 1
        var i = 0
        var quotedField = false
        func endRow() {
            fields.append(String(field))
            // A line holding nothing at all is not a row.
            if !(fields.count == 1 && fields[0].isEmpty && !quotedField) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
            field = String.UnicodeScalarView()
            quotedField = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "\"" && field.isEmpty && !quotedField {
                // A quoted field: runs to the next quote not doubled.
                quotedField = true
                let opened = line
                i += 1
                while true {
                    guard i < scalars.count else {
                        throw CSNError.file("\(source):\(opened)", "a quoted field is never closed")
                    }
                    let q = scalars[i]
                    if q == "\"" {
                        if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.append("\""); i += 2; continue }
                        i += 1
                        break
                    }
                    if q == "\n" { line += 1 }
                    field.append(q)
                    i += 1
                }
                if i < scalars.count, scalars[i] != ",", scalars[i] != "\n", scalars[i] != "\r" {
                    throw CSNError.file("\(source):\(line)", "text follows a closing quote; a quote inside a quoted field is written twice (\"\")")
                }
                continue
            }
            switch c {
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                quotedField = false
            case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n":
                break
            case "\n", "\r":
                endRow()
                line += 1
                rowLine = line
            case "\"":
                if quotedField {
                    throw CSNError.file("\(source):\(line)", "text follows a closing quote; a quote inside a quoted field is written twice (\"\")")
                }
                throw CSNError.file("\(source):\(line)", "a quote inside an unquoted field; quote the whole field and double the quote (\"\")")
            default:
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRow() }
        return rows
    }
}
