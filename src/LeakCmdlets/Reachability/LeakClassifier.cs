using System;
using System.Collections.Generic;
using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>
/// valgrind memcheck's leak rules on a <see cref="BlockGraph"/> (the rules, written anew from their description):
/// <list type="number">
/// <item>Marking from the roots. A block a root points at by its start is Reachable; one only pointed into is
/// Possible. From a Reachable block a start pointer makes its target Reachable and an interior pointer makes it
/// Possible; from a Possible block any pointer makes an unmarked target Possible. A block that goes up is looked
/// at again, so what it reaches goes up with it.</item>
/// <item>Cliques. The unmarked blocks are lost. In address order, each lost block not yet owned by another becomes
/// a leader (DefinitelyLost) and everything lost it reaches (by any pointer) becomes IndirectlyLost, owned by it;
/// its bytes count as the leader's indirect bytes. A leader reached later from another leader's clique joins that
/// clique with everything it owned. So a cycle nothing else reaches is one DefinitelyLost block (the lowest) and
/// the rest IndirectlyLost, and a lost tree is its root DefinitelyLost and the rest IndirectlyLost.</item>
/// </list>
/// </summary>
public static class LeakClassifier
{
    private const byte Unmarked = 0, Possible = 1, Reachable = 2;

    public static BlockClassification Classify(BlockGraph graph)
    {
        int n = graph.Count;
        var state = new byte[n];
        var stack = new Stack<int>();
        for (int i = 0; i < n; i++)
        {
            if (graph.Roots[i] == BlockGraph.NoRoot) continue;
            state[i] = graph.Roots[i] == BlockGraph.RootStart ? Reachable : Possible;
            stack.Push(i);
        }
        while (stack.Count > 0)
        {
            int block = stack.Pop();
            bool definite = state[block] == Reachable;
            foreach (int edge in graph.EdgesOf(block))
            {
                int target = BlockGraph.Target(edge);
                if (state[target] == Reachable) continue;
                if (definite && !BlockGraph.IsInterior(edge))
                {
                    state[target] = Reachable;
                    stack.Push(target);
                }
                else if (state[target] == Unmarked)
                {
                    state[target] = Possible;
                    stack.Push(target);
                }
            }
        }

        var verdicts = new LeakVerdict[n];
        if (Array.IndexOf(state, Unmarked) < 0)
        {
            // Nothing is lost (a healthy process): no cliques, and no arrays for them.
            for (int i = 0; i < n; i++) verdicts[i] = state[i] == Reachable ? LeakVerdict.Reachable : LeakVerdict.PossiblyLost;
            return new BlockClassification(verdicts, null, null);
        }

        // Cliques of lost blocks. owner[i] == i for a leader; a leader absorbed later points at its new leader.
        var owner = new int[n];
        Array.Fill(owner, -1);
        var indirect = new ulong[n];
        for (int leader = 0; leader < n; leader++)
        {
            if (state[leader] != Unmarked || owner[leader] != -1) continue;
            owner[leader] = leader;
            stack.Push(leader);
            while (stack.Count > 0)
            {
                int block = stack.Pop();
                foreach (int edge in graph.EdgesOf(block))
                {
                    int target = BlockGraph.Target(edge);
                    if (state[target] != Unmarked || target == leader) continue;
                    int current = owner[target];
                    if (current == -1)
                    {
                        owner[target] = leader;
                        indirect[leader] += graph.Size(target);
                        stack.Push(target);
                    }
                    else if (current == target)
                    {
                        // An earlier leader: it and all it owned now belong to this clique.
                        owner[target] = leader;
                        indirect[leader] += graph.Size(target) + indirect[target];
                        indirect[target] = 0;
                    }
                    // Otherwise it is owned already (by this clique, or by an earlier one whose leader this one does not reach): it stays.
                }
            }
        }

        // The owners are settled in place: a block's final leader replaces its link (what later blocks' chains pass
        // through stays a block of the same clique), and a block that is no clique's owns itself.
        for (int i = 0; i < n; i++)
        {
            if (state[i] == Reachable) verdicts[i] = LeakVerdict.Reachable;
            else if (state[i] == Possible) verdicts[i] = LeakVerdict.PossiblyLost;
            else if (owner[i] == i) verdicts[i] = LeakVerdict.DefinitelyLost;
            else
            {
                verdicts[i] = LeakVerdict.IndirectlyLost;
                owner[i] = FindLeader(owner, i);
                continue;
            }
            owner[i] = i;
        }
        return new BlockClassification(verdicts, indirect, owner);
    }

    private static int FindLeader(int[] owner, int block)
    {
        int at = owner[block];
        while (owner[at] != at) at = owner[at];
        return at;
    }
}
