import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { TaskQueue } from '../tasks/task-queue';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: TaskQueue,
    private readonly metrics: MetricsService,
  ) {}

  /** The process is up. */
  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  /** The process can do its job: the database answers and the queue takes work. */
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const withTimeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000))]);
    const database = await withTimeout(this.dataSource.query('SELECT 1')).then(() => 'ok', () => 'unavailable');
    const queue = await withTimeout(this.queue.isHealthy()).then((ok) => (ok ? 'ok' : 'unavailable'), () => 'unavailable');
    const ok = database === 'ok' && queue === 'ok';
    res.status(ok ? 200 : 503);
    // `down` names what is unreachable, so a probe's log line says what to fix.
    const down = [...(database === 'ok' ? [] : ['database']), ...(queue === 'ok' ? [] : [this.queue.driver === 'bullmq' ? 'redis' : 'queue'])];
    return { status: ok ? 'ok' : 'unavailable', down, database, queue: { driver: this.queue.driver, status: queue } };
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
