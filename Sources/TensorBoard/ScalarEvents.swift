import Foundation
import SwiftProtobuf

/// One scalar from an event file: what `SummaryWriter.add_scalar` wrote.
public struct ScalarEvent: Equatable, Sendable {
    public var tag: String
    public var step: Int64
    public var wallTime: Double
    public var value: Double

    public init(tag: String, step: Int64, wallTime: Double, value: Double) {
        self.tag = tag
        self.step = step
        self.wallTime = wallTime
        self.value = value
    }
}

/// Decodes the scalars of one event record: `simple_value`s and single-element tensors (what
/// `add_scalar(new_style=True)` and TF2's `tf.summary.scalar` write). Other summaries (images,
/// histograms, graphs) are skipped.
public enum ScalarEvents {
    public struct DecodeError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decode(_ record: ArraySlice<UInt8>) throws -> [ScalarEvent] {
        let event: Tensorboard_Event
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 32
            options.discardUnknownFields = true
            event = try Tensorboard_Event(serializedBytes: Array(record), options: options)
        } catch {
            throw DecodeError(description: "not an Event message (\(error))")
        }
        guard case .summary(let summary) = event.what else { return [] }
        return summary.value.compactMap { value in
            let number: Double?
            switch value.value {
            case .simpleValue(let v): number = Double(v)
            case .tensor(let tensor): number = scalar(of: tensor)
            case nil: number = nil
            }
            return number.map { ScalarEvent(tag: value.tag, step: event.step, wallTime: event.wallTime, value: $0) }
        }
    }

    /// The value of a tensor holding exactly one number, or nil for anything else.
    static func scalar(of tensor: Tensorboard_TensorProto) -> Double? {
        guard tensor.tensorShape.dim.allSatisfy({ $0.size == 1 }) else { return nil }
        let content = tensor.tensorContent
        func fromContent<T>(_ width: Int, _ convert: ([UInt8]) -> T) -> T? {
            content.count == width ? convert(Array(content)) : nil
        }
        func littleEndian(_ bytes: [UInt8]) -> UInt64 {
            bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        switch tensor.dtype {
        case .dtFloat:
            if tensor.floatVal.count == 1 { return Double(tensor.floatVal[0]) }
            return fromContent(4) { Double(Float(bitPattern: UInt32(littleEndian($0)))) }
        case .dtDouble:
            if tensor.doubleVal.count == 1 { return tensor.doubleVal[0] }
            return fromContent(8) { Double(bitPattern: littleEndian($0)) }
        case .dtHalf:
            if tensor.halfVal.count == 1 { return halfToDouble(UInt16(truncatingIfNeeded: tensor.halfVal[0])) }
            return fromContent(2) { halfToDouble(UInt16(littleEndian($0))) }
        case .dtBfloat16:
            if tensor.halfVal.count == 1 { return Double(Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: tensor.halfVal[0])) << 16)) }
            return fromContent(2) { Double(Float(bitPattern: UInt32(littleEndian($0)) << 16)) }
        case .dtInt32:
            if tensor.intVal.count == 1 { return Double(tensor.intVal[0]) }
            return fromContent(4) { Double(Int32(bitPattern: UInt32(littleEndian($0)))) }
        case .dtInt64:
            if tensor.int64Val.count == 1 { return Double(tensor.int64Val[0]) }
            return fromContent(8) { Double(Int64(bitPattern: littleEndian($0))) }
        default:
            return nil
        }
    }

    /// IEEE half precision to Double, without relying on Float16 (absent on some x86 toolchains).
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10) & 0x1F, fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * pow(2, -24)
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * pow(2, Double(exponent - 15))
        }
    }

    /// One event record holding scalars, as a SummaryWriter writes it (for tests and fixtures).
    public static func encode(step: Int64, wallTime: Double, scalars: [(tag: String, value: Float)]) -> [UInt8] {
        var event = Tensorboard_Event()
        event.step = step
        event.wallTime = wallTime
        var summary = Tensorboard_Summary()
        summary.value = scalars.map { scalar in
            var value = Tensorboard_Summary.Value()
            value.tag = scalar.tag
            value.simpleValue = scalar.value
            return value
        }
        event.summary = summary
        return (try? event.serializedBytes()) ?? []
    }
}
