/**
 * PNG line charts for the benchmarks: several panels stacked in one image, each with one or more series over
 * a shared x axis (usually minutes since the start), optional shaded bands (e.g. fault periods) and vertical
 * markers (e.g. a restart). Drawn with Chart.js on @napi-rs/canvas: both install from npm as they are (the
 * canvas ships prebuilt Skia binaries in per-platform npm packages, no native build, no download at install),
 * and text uses the machine's fonts (DejaVu on these machines).
 *
 *   const png = renderLineCharts({ title: 'soak', xLabel: 'minutes', panels: [{ title: 'memory', yLabel: 'MB',
 *     series: [{ name: 'rss', points: [[0, 80], [1, 82]] }] }], bands: [{ from: 2, to: 3, label: 'stall' }] });
 *   await writeFile('plot.png', png);
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';

Chart.register(...registerables);

export interface Series {
  name: string;
  /** [x, y] pairs; a null y leaves a gap (e.g. while the process was restarting). */
  points: ReadonlyArray<readonly [number, number | null]>;
  /** Dashed line (e.g. a limit to compare with). */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Lower bound of the y axis (default 0). */
  yMin?: number;
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface Marker {
  at: number;
  label: string;
}

export interface LineChartsOptions {
  title: string;
  xLabel: string;
  panels: Panel[];
  bands?: Band[];
  markers?: Marker[];
  width?: number;
  panelHeight?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const BAND_COLORS = ['rgba(255,165,0,0.16)', 'rgba(220,20,60,0.13)', 'rgba(30,144,255,0.13)', 'rgba(128,0,128,0.12)', 'rgba(0,128,0,0.12)', 'rgba(128,128,0,0.16)'];
const TITLE_HEIGHT = 58;
/** Same y-axis width in every panel, so their x axes line up. */
const Y_AXIS_WIDTH = 64;

/** Each band label gets one colour, the same in every panel, listed once in the image's legend. */
function bandColors(bands: Band[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of bands) if (!out.has(b.label)) out.set(b.label, BAND_COLORS[out.size % BAND_COLORS.length]!);
  return out;
}

function backgroundPlugin(bands: Band[], colors: Map<string, string>, markers: Marker[]): Plugin<'line'> {
  return {
    id: 'eqlwatchBackground',
    beforeDraw(chart) {
      const { ctx, width, height, chartArea, scales } = chart;
      ctx.save();
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, width, height);
      const x = scales.x!;
      for (const b of bands) {
        const left = Math.max(chartArea.left, x.getPixelForValue(b.from));
        const right = Math.min(chartArea.right, x.getPixelForValue(b.to));
        if (right <= left) continue;
        ctx.fillStyle = colors.get(b.label)!;
        ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.strokeStyle = '#444444';
      ctx.fillStyle = '#444444';
      ctx.setLineDash([4, 3]);
      ctx.font = '11px "DejaVu Sans", sans-serif';
      for (const m of markers) {
        const px = scales.x!.getPixelForValue(m.at);
        if (px < chartArea.left || px > chartArea.right) continue;
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        ctx.fillText(m.label, px + 3, chartArea.top + 11);
      }
      ctx.restore();
    },
  };
}

/** Draws one panel with Chart.js and copies it onto `target` at `top` (destroying a chart clears its canvas). */
function drawPanel(target: SKRSContext2D, top: number, p: Panel, o: Required<Pick<LineChartsOptions, 'width' | 'panelHeight' | 'xLabel'>>, bands: Band[], colors: Map<string, string>, markers: Marker[], xMax: number): void {
  const canvas = createCanvas(o.width, o.panelHeight);
  const config: ChartConfiguration<'line', { x: number; y: number | null }[]> = {
    type: 'line',
    data: {
      datasets: p.series.map((s, i) => ({
        label: s.name,
        data: s.points.map(([x, y]) => ({ x, y })),
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        borderWidth: 1.5,
        pointRadius: 0,
        spanGaps: false,
        ...(s.dashed ? { borderDash: [6, 4] } : {}),
      })),
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      parsing: false,
      normalized: true,
      plugins: {
        title: { display: true, text: p.title, font: { size: 14 } },
        legend: { position: 'top', align: 'end', labels: { boxWidth: 14, font: { size: 11 } } },
      },
      scales: {
        x: { type: 'linear', min: 0, max: xMax, title: { display: true, text: o.xLabel } },
        y: { min: p.yMin ?? 0, title: { display: true, text: p.yLabel }, afterFit: (scale) => void (scale.width = Y_AXIS_WIDTH) },
      },
    },
    plugins: [backgroundPlugin(bands, colors, markers)],
  };
  // Chart.js draws on any 2D context; on a server there is no DOM, so it takes the canvas' own context.
  const chart = new Chart(canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0], config);
  chart.draw();
  target.drawImage(canvas, 0, top);
  chart.destroy();
}

/** The bands' colours under the title: "shaded: ■ stall  ■ 503 …". */
function drawLegend(ctx: SKRSContext2D, colors: Map<string, string>): void {
  if (colors.size === 0) return;
  ctx.font = '12px "DejaVu Sans", sans-serif';
  ctx.fillStyle = '#333333';
  ctx.fillText('shaded:', 16, 48);
  let x = 16 + ctx.measureText('shaded:').width + 10;
  for (const [label, color] of colors) {
    ctx.fillStyle = color.replace(/[\d.]+\)$/, '0.5)');
    ctx.fillRect(x, 38, 14, 12);
    ctx.fillStyle = '#333333';
    ctx.fillText(label, x + 18, 48);
    x += 18 + ctx.measureText(label).width + 14;
  }
}

/** The panels stacked under a title, as one PNG. */
export function renderLineCharts(o: LineChartsOptions): Buffer {
  const width = o.width ?? 1200;
  const panelHeight = o.panelHeight ?? 260;
  const bands = o.bands ?? [];
  const markers = o.markers ?? [];
  const colors = bandColors(bands);
  const xMax = Math.max(0, ...o.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x))));
  const out = createCanvas(width, TITLE_HEIGHT + panelHeight * o.panels.length);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 16px "DejaVu Sans", sans-serif';
  ctx.fillText(o.title, 16, 28);
  drawLegend(ctx, colors);
  o.panels.forEach((p, i) => drawPanel(ctx, TITLE_HEIGHT + i * panelHeight, p, { width, panelHeight, xLabel: o.xLabel }, bands, colors, markers, xMax));
  return out.toBuffer('image/png');
}
