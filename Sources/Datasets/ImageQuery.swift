import Basics

/// Finds images by their attributes, as typed in the UI's search: `font:Lato char:g`,
/// `weight:bold`, `#123` (an image index), or words matched against image names.
///
/// A term `name:value` takes the condition whose name starts with `name` (so `char` is
/// `character`); a value may hold spaces (`font:DejaVu Sans Mono char:g`). A value matches exactly
/// (case first, so `char:g` is not `G`), else by case-insensitive prefix, so `font:Lato` takes
/// every Lato face. An ordinal condition also takes a range, `heel:2..3` (either end may be left
/// out: `heel:..1`), or a number, matching every image within the condition's threshold of it.
/// Matches come in split order test, val, train, then by index.
public enum ImageQuery {
    public static func search(_ text: String, in dataset: ImageDataset) throws -> [Int32] {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw CSNError("type what to look for, e.g. \(example(for: dataset))") }
        if trimmed.hasPrefix("#") {
            guard let index = Int(trimmed.dropFirst()), index >= 0, index < dataset.count else {
                throw CSNError("'\(trimmed)' is not an image index (0...\(dataset.count - 1))")
            }
            return [Int32(index)]
        }
        var selected = [Bool](repeating: true, count: dataset.count)
        for term in terms(trimmed) {
            if let key = term.key {
                let lower = key.lowercased()
                guard let c = dataset.conditions.firstIndex(where: { $0.name.lowercased().hasPrefix(lower) }) else {
                    throw CSNError("no condition '\(key)'; this dataset has: \(dataset.conditions.map(\.name).joined(separator: ", "))")
                }
                let condition = dataset.conditions[c]
                if case .ordinal(let numbers, let threshold) = condition.rule {
                    if let number = Float.parse(term.value), number.isFinite {
                        // A number: the images alike to it, by the same rule as training and evaluation.
                        for i in 0..<dataset.count where selected[i] && !Condition.within(numbers[i], number, threshold: threshold) { selected[i] = false }
                        continue
                    }
                    if let range = try ordinalRange(term.value, condition: condition.name) {
                        for i in 0..<dataset.count where selected[i] && !range.contains(numbers[i]) { selected[i] = false }
                        continue
                    }
                }
                let values = matchingValues(term.value, in: condition.valueNames)
                guard !values.isEmpty else { throw CSNError("no \(condition.name) value matches '\(term.value)'") }
                for i in 0..<dataset.count where selected[i] && !values.contains(Int(condition.labels[i])) { selected[i] = false }
            } else {
                let word = term.value.lowercased()
                for i in 0..<dataset.count where selected[i] && !dataset.imageNames[i].lowercased().contains(word) { selected[i] = false }
            }
        }
        let matches = (0..<dataset.count).filter { selected[$0] }
        let splitOrder: [Split: Int] = [.test: 0, .val: 1, .train: 2]
        return matches.sorted { (splitOrder[dataset.splits[$0]]!, $0) < (splitOrder[dataset.splits[$1]]!, $1) }.map { Int32($0) }
    }

    /// A search in `dataset`'s own terms: its first two conditions with a value each (a range for
    /// an ordinal one), e.g. `character:A font:Lato` or `type:boot heel:2..3`.
    public static func example(for dataset: ImageDataset) -> String {
        let terms = dataset.conditions.filter { !$0.isListed && !$0.valueNames.isEmpty }.prefix(2).map { condition -> String in
            let name = condition.name.contains(" ") ? String(condition.name.prefix { $0 != " " }) : condition.name
            if case .ordinal = condition.rule, condition.valueNames.count >= 2 {
                return "\(name):\(condition.valueNames[0])..\(condition.valueNames[condition.valueNames.count / 2])"
            }
            return "\(name):\(condition.valueNames[condition.valueNames.count / 2])"
        }
        return terms.isEmpty ? "a word of an image name" : terms.joined(separator: " ")
    }

    /// `key:value` terms; words without a colon extend the previous term's value.
    static func terms(_ text: String) -> [(key: String?, value: String)] {
        var terms: [(key: String?, value: String)] = []
        for word in text.split(separator: " ").map(String.init) {
            if let colon = word.firstIndex(of: ":"), colon != word.startIndex {
                terms.append((String(word[..<colon]), String(word[word.index(after: colon)...])))
            } else if let last = terms.last, last.key != nil {
                terms[terms.count - 1].value = last.value.isEmpty ? word : last.value + " " + word
            } else {
                terms.append((nil, word))
            }
        }
        return terms
    }

    /// `a..b`, `a..` or `..b`; nil for other text (a value name).
    static func ordinalRange(_ text: String, condition: String) throws -> ClosedRange<Float>? {
        guard let dots = text.range(of: "..") else { return nil }
        let low = text[..<dots.lowerBound], high = text[dots.upperBound...]
        let from = low.isEmpty ? -Float.infinity : Float.parse(low), to = high.isEmpty ? Float.infinity : Float.parse(high)
        guard let from, let to, !from.isNaN, !to.isNaN, from <= to else {
            throw CSNError("'\(text)' is not a range of \(condition) values; write low..high, e.g. \(condition):2..3")
        }
        return from...to
    }

    static func matchingValues(_ value: String, in names: [String]) -> Set<Int> {
        if let exact = names.firstIndex(of: value) { return [exact] }
        let lower = value.lowercased()
        let caseless = names.indices.filter { names[$0].lowercased() == lower }
        if !caseless.isEmpty { return Set(caseless) }
        return Set(names.indices.filter { names[$0].lowercased().hasPrefix(lower) })
    }
}
