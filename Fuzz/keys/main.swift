// The erase index (`SubjectKeyIndex`, `<data>/warehouse/_keys/…`): any bytes decode to an
// index or to nil (the erase then reads the whole file), never a crash or a runaway
// allocation; what decodes is sorted and distinct, answers `contains` for each of its hashes,
// and encodes back to exactly the input bytes (the format has one encoding per index).
// The same bytes as a day's pack of raw files' indexes (`RawKeyIndexPack`): nil or a pack
// that encodes back to them, each entry decoding or not like the index decoder says.
@testable import ColumnStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let pack = RawKeyIndexPack.decode(bytes) {
        if pack.encoded() != bytes { fuzzFail("re-encoding a pack changed the bytes", input: bytes) }
        for (name, entry) in pack.entries where (pack.index(named: name) == nil) != (SubjectKeyIndex.decode(entry).map { $0.kind == .raw } != true) {
            fuzzFail("a pack entry decodes unlike the index decoder", input: bytes)
        }
    }
    guard let index = SubjectKeyIndex.decode(bytes) else { return 0 }
    for position in index.hashes.indices.dropFirst() where index.hashes[position - 1] >= index.hashes[position] {
        fuzzFail("decoded hashes are not sorted and distinct", input: bytes)
    }
    for hash in index.hashes.prefix(64) where !index.contains(hash) { fuzzFail("contains misses a hash it holds", input: bytes) }
    if index.encoded() != bytes { fuzzFail("re-encoding changed the bytes", input: bytes) }
    return 0
}
