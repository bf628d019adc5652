/// Trustworthiness of a low-dimensional map (Venna and Kaski, 2001), as scikit-learn defines it:
/// 1 - 2 / (n k (2n - 3k - 1)) * sum over points of sum over their k map neighbours that are not
/// among their k input neighbours of (input rank - k). 1 means every map neighbour is a true one.
/// O(N^2) memory-light exact computation; fine for the sizes used in tests and benchmarks.
public enum Trustworthiness {
    public static func score(input: [Float], inputDimension: Int, map: [Float], mapDimension: Int, k: Int) -> Double {
        let n = input.count / inputDimension
        precondition(map.count == n * mapDimension && k < n / 2, "trustworthiness needs k < n / 2")
        var penalty = 0.0
        var inputDistance = [Float](repeating: 0, count: n)
        var mapDistance = [Float](repeating: 0, count: n)
        for i in 0..<n {
            for j in 0..<n {
                inputDistance[j] = squaredDistance(input, i, j, inputDimension)
                mapDistance[j] = squaredDistance(map, i, j, mapDimension)
            }
            // Ranks in input space (1 = nearest other point), ties by index.
            let inputOrder = (0..<n).filter { $0 != i }.sorted { inputDistance[$0] != inputDistance[$1] ? inputDistance[$0] < inputDistance[$1] : $0 < $1 }
            var rank = [Int](repeating: 0, count: n)
            for (r, j) in inputOrder.enumerated() { rank[j] = r + 1 }
            let mapNeighbours = (0..<n).filter { $0 != i }.sorted { mapDistance[$0] != mapDistance[$1] ? mapDistance[$0] < mapDistance[$1] : $0 < $1 }.prefix(k)
            for j in mapNeighbours where rank[j] > k { penalty += Double(rank[j] - k) }
        }
        let nn = Double(n), kk = Double(k)
        return 1 - 2 / (nn * kk * (2 * nn - 3 * kk - 1)) * penalty
    }

    private static func squaredDistance(_ x: [Float], _ i: Int, _ j: Int, _ d: Int) -> Float {
        var s: Float = 0
        for t in 0..<d { let v = x[i * d + t] - x[j * d + t]; s += v * v }
        return s
    }
}
