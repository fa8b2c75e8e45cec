import HeraldCore

extension EndpointKey {
    /// `id(ofKey:)` in SQL, over the column `column`.
    static func idSQL(_ column: String = "id") -> String {
        "(CASE WHEN instr(\(column), '/') > 0 THEN substr(\(column), instr(\(column), '/') + 1) ELSE \(column) END)"
    }
}
