package org.modtrack.simulation;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs every schedule of a small bounded scenario ({@link Scenario#exhaustive}): every order of the
 * enabled steps at every point, depth first. No state is shared between schedules: each one is
 * replayed from the start, choosing at each point the next alternative (an odometer over choices).
 */
final class ExhaustiveSearch {
    private ExhaustiveSearch() {}

    /**
     * What the search found.
     *
     * @param schedules how many schedules were run
     * @param violations how many failed
     * @param firstFailure the steps and violations of the first failure (empty if none)
     */
    record Result(long schedules, long violations, List<String> firstFailure) {}

    /** Runs all schedules of {@code scenario}, at most {@code limit} of them. */
    static Result run(Scenario scenario, long limit) {
        return run(scenario, limit, false);
    }

    /** Like {@link #run(Scenario, long)}, optionally stopping at the first failure. */
    static Result run(Scenario scenario, long limit, boolean stopAtFirstFailure) {
        List<Integer> choices = new ArrayList<>();
        long schedules = 0;
        long violations = 0;
        List<String> first = List.of();
        while (schedules < limit) {
            World world = new World(scenario);
            List<Integer> widths = new ArrayList<>();
            int depth = 0;
            while (true) {
                List<Step> enabled = world.enabledSteps(null);
                if (enabled.isEmpty()) {
                    break;
                }
                if (depth == choices.size()) {
                    choices.add(0);
                }
                widths.add(enabled.size());
                world.apply(enabled.get(choices.get(depth)));
                depth++;
            }
            world.drainAndCheck();
            schedules++;
            if (!world.violations().isEmpty()) {
                violations++;
                if (first.isEmpty()) {
                    first = new ArrayList<>(world.log());
                    first.addAll(world.violations());
                }
                if (stopAtFirstFailure) {
                    break;
                }
            }
            choices.subList(depth, choices.size()).clear();
            if (!advance(choices, widths)) {
                break;
            }
        }
        return new Result(schedules, violations, first);
    }

    /** Moves to the next schedule: bumps the deepest choice that has an alternative left. */
    private static boolean advance(List<Integer> choices, List<Integer> widths) {
        for (int d = choices.size() - 1; d >= 0; d--) {
            if (choices.get(d) + 1 < widths.get(d)) {
                choices.set(d, choices.get(d) + 1);
                choices.subList(d + 1, choices.size()).clear();
                return true;
            }
        }
        return false;
    }
}
