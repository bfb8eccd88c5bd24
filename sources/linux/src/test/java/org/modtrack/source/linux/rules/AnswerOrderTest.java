package org.modtrack.source.linux.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modtrack.engine.Access;
import org.modtrack.engine.Durability;
import org.modtrack.source.linux.LinuxSourceOptions;

/** Which permission events wait for their record, and what is recorded when their directory is not. */
class AnswerOrderTest {

    @Test
    void aWriteWaitsForItsRecordAndAReadDoesNot() {
        for (boolean open : new boolean[] {false, true}) {
            assertEquals(AnswerOrder.RECORD_THEN_ANSWER, AnswerOrder.of(Access.WRITE, open));
            assertFalse(AnswerOrder.of(Access.WRITE, open).answersFirst());
            assertTrue(AnswerOrder.of(Access.READ, open).answersFirst());
        }
    }

    @Test
    void aFirstReadRecordsItsFileAndAnOpenThatCannotWriteDoesNotOnItsOwn() {
        assertEquals(AnswerOrder.ANSWER_THEN_RECORD, AnswerOrder.of(Access.READ, false));
        assertTrue(AnswerOrder.ANSWER_THEN_RECORD.recordsTheFile());
        assertEquals(AnswerOrder.ANSWER_THEN_RECORD_DIRECTORY, AnswerOrder.of(Access.READ, true));
        assertFalse(AnswerOrder.ANSWER_THEN_RECORD_DIRECTORY.recordsTheFile());
        assertTrue(AnswerOrder.RECORD_THEN_ANSWER.recordsTheFile());
    }

    @Test
    void onlyDirectoryRecordsWithoutASyncRecordBeforeClassifying() {
        assertTrue(AnswerOrder.recordsDirectoryBeforeClassifying(LinuxSourceOptions.Granularity.DIRECTORY, Durability.PROCESS));
        assertFalse(AnswerOrder.recordsDirectoryBeforeClassifying(LinuxSourceOptions.Granularity.DIRECTORY, Durability.POWER));
        assertFalse(AnswerOrder.recordsDirectoryBeforeClassifying(LinuxSourceOptions.Granularity.FILE, Durability.PROCESS));
        assertFalse(AnswerOrder.RECORD_DIRECTORY_THEN_ANSWER.answersFirst());
        assertFalse(AnswerOrder.RECORD_DIRECTORY_THEN_ANSWER.recordsTheFile());
    }
}
