package org.modtrack.simulation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.storage.AppendFile;
import org.modtrack.simulation.SimulatedStorage.CrashKind;

/** The simulated disk loses exactly what a real one may lose, and nothing it may not. */
class SimulatedStorageTest {
    private static MemorySegment bytes(int n, int value) {
        MemorySegment s = Arena.ofAuto().allocate(n);
        s.fill((byte) value);
        return s;
    }

    private static byte[] read(SimulatedStorage s, String name) throws Exception {
        ByteBuffer b = s.read(name);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void syncedBytesAndSyncedNamesSurviveEveryPowerLoss() throws Exception {
        for (long seed = 0; seed < 200; seed++) {
            SimulatedStorage s = new SimulatedStorage();
            AppendFile f = s.create("a", 4096, true);
            s.syncDirectory();
            f.write(0, bytes(300, 7));
            f.sync();
            f.write(300, bytes(500, 9)); // never synced
            s.crashNow(CrashKind.POWER);
            s.reboot(CrashKind.POWER, seed);
            byte[] after = read(s, "a");
            for (int i = 0; i < 300; i++) {
                assertEquals(7, after[i], "synced byte " + i + " lost with seed " + seed);
            }
            for (int i = 300; i < 800; i++) {
                assertTrue(after[i] == 0 || after[i] == 9, "byte " + i + " is neither old nor new, seed " + seed);
            }
        }
    }

    @Test
    void unsyncedBytesAreSometimesLostAndSometimesKeptAfterPowerLoss() throws Exception {
        boolean lostSome = false;
        boolean keptSome = false;
        for (long seed = 0; seed < 100; seed++) {
            SimulatedStorage s = new SimulatedStorage();
            AppendFile f = s.create("a", 4096, true);
            s.syncDirectory();
            f.write(0, bytes(1000, 5));
            s.crashNow(CrashKind.POWER);
            s.reboot(CrashKind.POWER, seed);
            byte[] after = read(s, "a");
            lostSome |= after[0] == 0 || after[999] == 0;
            keptSome |= after[0] == 5 || after[999] == 5;
        }
        assertTrue(lostSome && keptSome);
    }

    @Test
    void aProcessCrashLosesNothing() throws Exception {
        SimulatedStorage s = new SimulatedStorage();
        AppendFile f = s.create("a", 4096, true);
        f.write(0, bytes(100, 3));
        s.crashNow(CrashKind.PROCESS);
        s.reboot(CrashKind.PROCESS, 1);
        assertEquals(3, read(s, "a")[99]);
        assertTrue(s.list().contains("a"), "the kernel still has the name");
    }

    @Test
    void unsyncedDirectoryChangesSurviveAsAnOrderedPrefix() throws Exception {
        // Pending, in order: create one, create two, delete one. A journalling file system commits
        // them in order, so only these outcomes are possible: {}, {one}, {one, two}, {two}.
        Set<Set<String>> possible = Set.of(Set.of(), Set.of("one"), Set.of("one", "two"), Set.of("two"));
        Set<Set<String>> seen = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            SimulatedStorage s = new SimulatedStorage();
            s.writeDurably("one", ByteBuffer.wrap(new byte[] {1}));
            s.writeDurably("two", ByteBuffer.wrap(new byte[] {2}));
            s.delete("one");
            s.crashNow(CrashKind.POWER);
            s.reboot(CrashKind.POWER, seed);
            Set<String> names = new HashSet<>(s.list());
            assertTrue(possible.contains(names), names + " is not a prefix of the changes, seed " + seed);
            seen.add(names);
        }
        assertEquals(possible, seen, "every prefix happens for some seed");
    }

    @Test
    void anArmedCrashStrikesAtItsOperationAndMayTearAWrite() throws Exception {
        boolean tore = false;
        for (long seed = 0; seed < 50; seed++) {
            SimulatedStorage s = new SimulatedStorage();
            AppendFile f = s.create("a", 4096, true);
            s.syncDirectory();
            s.arm(CrashKind.PROCESS, 1, seed);
            assertThrows(SimulatedStorage.Crash.class, () -> f.write(0, bytes(200, 4)));
            assertThrows(SimulatedStorage.Crash.class, s::list, "nothing works until the reboot");
            s.reboot(CrashKind.PROCESS, seed);
            byte[] after = read(s, "a");
            int landed = 0;
            while (landed < 200 && after[landed] == 4) {
                landed++;
            }
            assertTrue(Arrays.equals(after, landed, 200, new byte[200 - landed], 0, 200 - landed), "a prefix lands");
            tore |= landed > 0 && landed < 200;
        }
        assertTrue(tore, "some write was torn");
    }

    @Test
    void aFileDescriptorCannotOutliveItsProcess() throws Exception {
        SimulatedStorage s = new SimulatedStorage();
        AppendFile f = s.create("a", 4096, true);
        s.crashNow(CrashKind.PROCESS);
        s.reboot(CrashKind.PROCESS, 0);
        assertThrows(AssertionError.class, () -> f.write(0, bytes(1, 1)));
        assertArrayEquals(new byte[4096], read(s, "a"));
    }
}
