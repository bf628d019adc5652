import Datasets
import Tensor

/// Triplet accuracy as in the paper: per condition, the share of triplets with
/// D_c(i, j) < D_c(i, l) (ties count as wrong), with batch norm in inference mode.
public enum Evaluator {
    /// Embeddings [images.count, D] of `images` under network `network`, in chunks.
    /// `isCancelled` is asked between batches; a cancelled call returns early with the rest zero.
    public static func embed(_ images: [Int32], model: CSNModel, network: Int, dataset: ImageDataset,
                             isCancelled: () -> Bool = { false }) -> [Float] {
        let net = model.networks[network]
        let d = model.shape.embeddingDimension
        var out = [Float](repeating: 0, count: images.count * d)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            var start = 0
            while start < images.count && !isCancelled() {
                let count = min(net.maxBatch, images.count - start)
                net.loadImages(count: count, bytesPerImage: dataset.bytesPerImage) { n in
                    pixels.baseAddress! + Int(images[start + n]) * dataset.bytesPerImage
                }
                net.forward(training: false)
                out.withUnsafeMutableBufferPointer { target in
                    (target.baseAddress! + start * d).update(from: net.embeddings.pointer, count: count * d)
                }
                start += count
            }
        }
        return out
    }

    /// Stage `stage`'s convolutional features of `images` ([N, C], each channel averaged over its
    /// positions), from network `network` in inference mode.
    public static func stageFeatures(_ images: [Int32], model: CSNModel, network: Int, stage: Int, dataset: ImageDataset) -> [Float] {
        let net = model.networks[network]
        let channels = net.stageChannels(stage)
        var out = [Float](repeating: 0, count: images.count * channels)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            var start = 0
            while start < images.count {
                let count = min(net.maxBatch, images.count - start)
                net.loadImages(count: count, bytesPerImage: dataset.bytesPerImage) { n in
                    pixels.baseAddress! + Int(images[start + n]) * dataset.bytesPerImage
                }
                net.forward(training: false)
                out.withUnsafeMutableBufferPointer { target in net.stageFeatures(stage, into: target.baseAddress! + start * channels) }
                start += count
            }
        }
        return out
    }

    /// The embeddings of `images` in condition `condition`'s subspace: the condition's network,
    /// each vector multiplied by its mask, [N, D] row-major. With nil, the first network unmasked.
    public static func maskedEmbeddings(_ images: [Int32], model: CSNModel, condition: Int?, dataset: ImageDataset) -> [Float] {
        var vectors = embed(images, model: model, network: model.networkIndex(condition: condition ?? 0), dataset: dataset)
        guard let condition else { return vectors }
        applyMask(&vectors, masks: model.effectiveMasks(), condition: condition, dimension: model.shape.embeddingDimension)
        return vectors
    }

    /// Multiplies every row of `vectors` ([N, D]) by row `condition` of `masks` ([K, D]).
    public static func applyMask(_ vectors: inout [Float], masks: [Float], condition: Int, dimension d: Int) {
        masks.withUnsafeBufferPointer { masks in
            let mask = masks.baseAddress! + condition * d
            vectors.withUnsafeMutableBufferPointer { rows in
                for i in rows.indices { rows[i] *= mask[i % d] }
            }
        }
    }

    /// Accuracy per condition (NaN for a condition with no triplets) over `triplets`.
    public static func accuracy(model: CSNModel, dataset: ImageDataset, triplets: TripletList) -> [Double] {
        let k = model.conditionCount, d = model.shape.embeddingDimension
        let masks = model.effectiveMasks()
        var correct = [Int](repeating: 0, count: k), seen = [Int](repeating: 0, count: k)
        for network in model.networks.indices {
            // The triplets this network judges, and the distinct images they use.
            var rowOfImage = [Int32](repeating: -1, count: dataset.count)
            var images: [Int32] = []
            var mine: [Int] = []
            for t in 0..<triplets.count where model.networkIndex(condition: Int(triplets[t].condition)) == network {
                mine.append(t)
                let triplet = triplets[t]
                func add(_ image: Int32) {
                    guard rowOfImage[Int(image)] < 0 else { return }
                    rowOfImage[Int(image)] = Int32(images.count)
                    images.append(image)
                }
                add(triplet.anchor)
                add(triplet.positive)
                add(triplet.negative)
            }
            guard !mine.isEmpty else { continue }
            let embeddings = embed(images, model: model, network: network, dataset: dataset)
            for t in mine {
                let triplet = triplets[t]
                let c = Int(triplet.condition)
                let a = Int(rowOfImage[Int(triplet.anchor)]) * d
                let p = Int(rowOfImage[Int(triplet.positive)]) * d
                let n = Int(rowOfImage[Int(triplet.negative)]) * d
                var positive: Float = 0, negative: Float = 0
                for j in 0..<d {
                    let u = (embeddings[a + j] - embeddings[p + j]) * masks[c * d + j]
                    let v = (embeddings[a + j] - embeddings[n + j]) * masks[c * d + j]
                    positive += u * u
                    negative += v * v
                }
                seen[c] += 1
                if positive < negative { correct[c] += 1 }
            }
        }
        return (0..<k).map { seen[$0] == 0 ? .nan : Double(correct[$0]) / Double(seen[$0]) }
    }

    /// The mean over conditions that have triplets.
    public static func mean(_ accuracies: [Double]) -> Double {
        let present = accuracies.filter { !$0.isNaN }
        return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
    }

    /// The first `perCondition` triplets of each condition of a list.
    public static func subset(_ triplets: TripletList, perCondition: Int, conditionCount: Int) -> TripletList {
        var taken = [Int](repeating: 0, count: conditionCount)
        var result = TripletList()
        for t in 0..<triplets.count {
            let c = Int(triplets[t].condition)
            guard taken[c] < perCondition else { continue }
            taken[c] += 1
            result.append(triplets[t])
        }
        return result
    }
}
