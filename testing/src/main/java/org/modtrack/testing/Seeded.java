package org.modtrack.testing;

import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * Gives a test a {@link SplittableRandom} and, if the test fails, says which seed reproduces it.
 *
 * <p>The seed is {@code -Dmodtrack.seed=N} when set, otherwise new for every run. Use with
 * {@code @ExtendWith(Seeded.class)} and a {@code SplittableRandom} parameter.
 */
public final class Seeded implements ParameterResolver, TestExecutionExceptionHandler {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(Seeded.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        return p.getParameter().getType() == SplittableRandom.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        long seed = seedFor(c);
        return new SplittableRandom(seed);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext c, Throwable t) throws Throwable {
        Long seed = c.getStore(NS).get("seed", Long.class);
        // A failed assumption is a skip (a missing mkfs, say), not a failure the seed could reproduce.
        if (seed != null && !(t instanceof TestAbortedException)) {
            AssertionError withSeed = new AssertionError("failed with seed " + seed
                    + " (reproduce: bin/test -Dmodtrack.seed=" + seed + " -Dtest=" + c.getRequiredTestClass().getSimpleName()
                    + "#" + c.getRequiredTestMethod().getName() + " -Dsurefire.failIfNoSpecifiedTests=false): " + t.getMessage(), t);
            throw withSeed;
        }
        throw t;
    }

    private static long seedFor(ExtensionContext c) {
        return c.getStore(NS).getOrComputeIfAbsent("seed", k -> {
            String fixed = System.getProperty("modtrack.seed");
            return fixed != null ? Long.parseLong(fixed) : System.nanoTime() ^ Thread.currentThread().threadId();
        }, Long.class);
    }
}
