package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.modtrack.source.linux.PathChange.Kind;
import org.modtrack.source.linux.WorkloadChecker.Observation;
import org.modtrack.source.linux.WorkloadChecker.Op;
import org.modtrack.source.linux.WorkloadChecker.Report;
import org.modtrack.source.linux.WorkloadChecker.Span;

/** The workload checker on synthetic logs and results. */
class WorkloadCheckerTest {
    private static final List<Span> ALWAYS = List.of(new Span(Long.MIN_VALUE, Long.MAX_VALUE));

    private static List<Op> log(String... lines) {
        return Stream.of(lines).map(Op::parse).toList();
    }

    private static PathChange entry(Kind kind, String path) {
        return new PathChange(path, kind, null, false, false, false, 1);
    }

    private static PathChange renamed(String from, String path, boolean directory) {
        return new PathChange(path, Kind.RENAMED, from, directory, false, false, 1);
    }

    private static Observation result(long start, long returned, PathChange... changes) {
        return new Observation(start, returned, true, true, false, List.of(changes));
    }

    @Test
    void aWriteNamedByTheNextResultIsNotMissed() {
        Report r = WorkloadChecker.check(log("1 2 create /m/a", "3 4 append /m/a"),
                List.of(result(5, 6, entry(Kind.CREATED, "/m/a"))), ALWAYS);
        assertEquals(0, r.missed(), r.firstMisses().toString());
        assertEquals(2, r.changes());
        assertEquals(0, r.falsePositives());
    }

    @Test
    void aWriteNoResultNamesIsMissed() {
        Report r = WorkloadChecker.check(log("1 2 create /m/a", "3 4 create /m/b", "7 8 append /m/a"),
                List.of(result(5, 6, entry(Kind.CREATED, "/m/a"), entry(Kind.CREATED, "/m/b")), result(9, 10)), ALWAYS);
        assertEquals(1, r.missed());
        assertEquals(true, r.firstMisses().get(0).contains("append"), r.firstMisses().toString());
    }

    @Test
    void aWriteEndingDuringAQueryMayBeNamedByThatOrTheNextResult() {
        List<Op> ops = log("1 2 create /m/a", "6 10 append /m/a");
        Observation created = result(3, 4, entry(Kind.CREATED, "/m/a"));
        Observation named = result(8, 12, entry(Kind.MODIFIED, "/m/a"));
        assertEquals(0, WorkloadChecker.check(ops, List.of(created, named, result(13, 14)), ALWAYS).missed());
        assertEquals(0, WorkloadChecker.check(ops, List.of(created, result(8, 12), result(13, 14, entry(Kind.MODIFIED,
                "/m/a"))), ALWAYS).missed());
        assertEquals(1, WorkloadChecker.check(ops, List.of(created, result(8, 12), result(13, 14)), ALWAYS).missed());
    }

    @Test
    void laterNamesRenamesAndDirectoryPrefixesCover() {
        List<Op> ops = log("1 2 mkdir /m/d1", "3 4 create /m/d1/f", "5 6 append /m/d1/f", "7 8 dirmove /m/d1 /m/d2",
                "9 10 create /m/g", "11 12 rename /m/g /m/h", "13 14 link /m/h /m/k", "15 16 append /m/k");
        Report r = WorkloadChecker.check(ops, List.of(result(20, 21, renamed("/m/d1", "/m/d2", true),
                entry(Kind.CREATED, "/m/h"))), ALWAYS);
        assertEquals(0, r.missed(), r.firstMisses().toString());
        assertEquals(0, r.falsePositives());
    }

    @Test
    void aListedDirectoryCoversItsDirectChildrenOnly() {
        List<Op> ops = log("1 2 mkdir /m/d", "3 4 mkdir /m/d/e", "5 6 create /m/d/f", "7 8 create /m/d/e/g");
        PathChange listD = new PathChange("/m/d", Kind.LIST, null, true, false, false, 0);
        PathChange listM = new PathChange("/m", Kind.LIST, null, true, false, false, 0);
        Report r = WorkloadChecker.check(ops, List.of(result(9, 10, listM, listD)), ALWAYS);
        assertEquals(1, r.missed(), "d/e/g is not covered by listing d: " + r.firstMisses());
        assertEquals(true, r.firstMisses().get(0).contains("/m/d/e/g"), r.firstMisses().toString());
        PathChange listE = new PathChange("/m/d/e", Kind.LIST, null, true, false, false, 0);
        assertEquals(0, WorkloadChecker.check(ops, List.of(result(9, 10, listM, listD, listE)), ALWAYS).missed());
    }

    @Test
    void aDeletionIsNamedByItsLastPathAndARenameByItsOldOne() {
        List<Op> ops = log("1 2 create /m/a", "3 4 create /m/b", "9 10 rename /m/a /m/b", "11 12 delete /m/b");
        Report r = WorkloadChecker.check(ops, List.of(result(5, 6, entry(Kind.CREATED, "/m/a"),
                entry(Kind.CREATED, "/m/b")), result(13, 14, entry(Kind.DELETED, "/m/b"))), ALWAYS);
        assertEquals(0, r.missed(), r.firstMisses().toString());
    }

    @Test
    void anUnblessedResultDoesNotCountAndAGapIsExcusedOnlyByLostContinuity() {
        List<Op> ops = log("1 2 create /m/a", "12 13 create /m/gap");
        Observation unblessed = new Observation(3, 4, false, true, false, List.of(entry(Kind.CREATED, "/m/a")));
        Observation lostEmpty = new Observation(20, 21, true, false, true, List.of());
        List<Span> spans = List.of(new Span(0, 10), new Span(15, 100));
        Report r = WorkloadChecker.check(ops, List.of(unblessed, lostEmpty), spans);
        assertEquals(1, r.missed(), "/m/a was only in an unblessed result");
        assertEquals(1, r.excusedByLostContinuity(), "/m/gap was written while no tracker ran");
        Observation intactEmpty = new Observation(20, 21, true, true, false, List.of());
        assertEquals(2, WorkloadChecker.check(ops, List.of(unblessed, intactEmpty), spans).missed());
    }

    @Test
    void aFileThatWasOnlyReadIsAFalsePositive() {
        List<Op> ops = log("1 2 create /m/a", "3 4 read /m/ro_1");
        Report r = WorkloadChecker.check(ops, List.of(result(5, 6, entry(Kind.CREATED, "/m/a"),
                entry(Kind.MODIFIED, "/m/ro_1")), result(7, 8, entry(Kind.MODIFIED, "/m/a"))), ALWAYS);
        assertEquals(0, r.missed());
        assertEquals(3, r.entries());
        assertEquals(2, r.falsePositives(), "ro_1 was only read, a was not written after the first query: "
                + r.firstFalsePositives());
        assertEquals(1, r.readFilesReported());
    }
}
