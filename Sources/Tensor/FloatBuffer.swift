/// A fixed-size block of Floats allocated once and freed with its owner: the storage behind
/// parameters, gradients, optimizer moments and activation workspaces. Not copy-on-write: kernels
/// write through `pointer` without exclusivity checks or hidden copies.
public final class FloatBuffer {
    public let count: Int
    public let pointer: FloatPointer

    public init(count: Int, repeating value: Float = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
