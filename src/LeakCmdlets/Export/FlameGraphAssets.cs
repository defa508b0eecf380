namespace LeakTools.Export;

/// <summary>
/// The stylesheet and script embedded in every SVG, so the file opens alone in a browser with no network.
/// The script lays frames out from their data-start/data-value/data-depth attributes, which is what makes
/// zoom a matter of re-running the layout on a smaller range.
/// </summary>
internal static class FlameGraphAssets
{
    public const string Style = """
        text { font-family: Verdana, Helvetica, sans-serif; font-size: 12px; fill: #000; }
        #title { font-size: 17px; text-anchor: middle; }
        #subtitle { fill: #555; text-anchor: middle; }
        #matched { text-anchor: end; }
        #unzoom { cursor: pointer; }
        #unzoom.hidden { display: none; }
        g.frame { cursor: pointer; }
        g.frame text { pointer-events: none; }
        g.frame:hover rect { stroke: #000; stroke-width: 0.5; }
        g.frame.ancestor rect { opacity: 0.5; }
        g.frame.match rect { fill: rgb(230, 0, 230); }
        """;

    public const string Script = """
        (function () {
          'use strict';
          var svg = document.documentElement;
          var innerWidth = +svg.getAttribute('data-inner-width');
          var pad = +svg.getAttribute('data-pad');
          var total = +svg.getAttribute('data-total');
          var unit = svg.getAttribute('data-unit');
          var charWidth = +svg.getAttribute('data-char-width');
          var frames = Array.prototype.slice.call(document.querySelectorAll('g.frame'));
          var details = document.getElementById('details');
          var matched = document.getElementById('matched');
          var unzoom = document.getElementById('unzoom');
          var search = document.getElementById('search');

          function attr(g, name) { return +g.getAttribute(name); }
          function thousands(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
          function percent(n) { return (total > 0 ? 100 * n / total : 0).toFixed(2); }

          function describe(g) {
            var module = g.getAttribute('data-module');
            var text = g.getAttribute('data-name') + (module ? ' (' + module + ')' : '');
            return text + ': ' + thousands(attr(g, 'data-bytes')) + ' bytes, ' +
              thousands(attr(g, 'data-count')) + ' allocations, ' + percent(attr(g, 'data-value')) + '% of ' + unit;
          }

          function label(g, width) {
            var name = g.getAttribute('data-name');
            var fits = Math.floor((width - 6) / charWidth);
            var text = g.querySelector('text');
            if (fits < 3) text.textContent = '';
            else if (name.length <= fits) text.textContent = name;
            else text.textContent = name.substring(0, fits - 2) + '..';
          }

          // Shows the frames inside [start, start + value) from `depth` up across the full width;
          // the frames below the zoomed one stretch across it, faded, so the path back stays visible.
          function layout(start, value, depth) {
            frames.forEach(function (g) {
              var s = attr(g, 'data-start'), v = attr(g, 'data-value'), d = attr(g, 'data-depth');
              var inside = d >= depth && s >= start && s + v <= start + value;
              var ancestor = d < depth && s <= start && s + v >= start + value;
              if (!inside && !ancestor) { g.style.display = 'none'; return; }
              var x = ancestor ? pad : pad + (s - start) / value * innerWidth;
              var width = ancestor ? innerWidth : v / value * innerWidth;
              g.style.display = '';
              if (ancestor) g.classList.add('ancestor'); else g.classList.remove('ancestor');
              var rect = g.querySelector('rect');
              rect.setAttribute('x', x.toFixed(2));
              rect.setAttribute('width', Math.max(width - 1, 0.1).toFixed(2));
              g.querySelector('text').setAttribute('x', (x + 3).toFixed(2));
              label(g, width);
            });
          }

          function zoom(g) {
            var depth = attr(g, 'data-depth');
            if (depth === 0) { reset(); return; }
            layout(attr(g, 'data-start'), attr(g, 'data-value'), depth);
            unzoom.classList.remove('hidden');
          }

          function reset() {
            layout(0, total, 0);
            unzoom.classList.add('hidden');
          }

          function find(term) {
            var pattern = null;
            if (term) {
              try { pattern = new RegExp(term, 'i'); }
              catch (e) { pattern = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'); }
            }
            var spans = [];
            frames.forEach(function (g) {
              var hit = pattern !== null && pattern.test(g.getAttribute('data-name'));
              if (hit) { g.classList.add('match'); spans.push([attr(g, 'data-start'), attr(g, 'data-value')]); }
              else g.classList.remove('match');
            });
            // A match inside a matching frame is already counted by it.
            spans.sort(function (a, b) { return a[0] - b[0]; });
            var covered = 0, end = -1;
            spans.forEach(function (span) {
              var spanEnd = span[0] + span[1];
              if (span[0] >= end) { covered += span[1]; end = spanEnd; }
              else if (spanEnd > end) { covered += spanEnd - end; end = spanEnd; }
            });
            matched.textContent = pattern === null ? '' : 'Matched: ' + percent(covered) + '%';
          }

          frames.forEach(function (g) {
            g.addEventListener('click', function () { zoom(g); });
            g.addEventListener('mouseover', function () { details.textContent = describe(g); });
            g.addEventListener('mouseout', function () { details.textContent = ' '; });
          });
          unzoom.addEventListener('click', reset);
          if (search) {
            search.addEventListener('input', function () { find(search.value); });
            search.addEventListener('keydown', function (e) { if (e.key === 'Escape') { search.value = ''; find(''); } });
          }
          document.addEventListener('keydown', function (e) {
            if (search && (e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); search.focus(); }
          });
          reset();
        })();
        """;
}
