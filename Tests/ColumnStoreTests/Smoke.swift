import XCTest
@testable import ColumnStore
final class ColumnStoreSmokeTests: XCTestCase { func testLinks() {} }
