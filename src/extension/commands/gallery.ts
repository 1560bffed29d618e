// The gallery and the Jobs view: open a gallery, show jobs, cancel or retry one, show the log.
import * as vscode from 'vscode';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import type { CommandTable } from './register.ts';

type GalleryCommands = Pick<CommandTable, 'openGallery' | 'openGalleryAll' | 'showJobs' | 'cancelJob' | 'retryJob' | 'showLog'>;

export function galleryCommands({ projects, gallery, log }: CommandContext): GalleryCommands {
  return {
    openGallery: {
      args: args.project,
      run: async (project) => {
        const s = project ?? (await projects.pick('Open the gallery of…'));
        if (!s) return;
        projects.setActive(s);
        await gallery.open(s.dir);
      },
    },

    openGalleryAll: {
      args: args.none,
      run: async () => {
        await projects.ready();
        await gallery.open('all');
      },
    },

    showJobs: {
      args: args.none,
      run: async () => vscode.commands.executeCommand('artFactory.jobs.focus'),
    },

    cancelJob: {
      args: args.jobEntry,
      run: async (entry) => {
        if (!entry) return;
        const engine = await projects.get(entry.project)?.engine();
        await engine?.cancel(entry.job.id);
      },
    },

    retryJob: {
      args: args.jobEntry,
      trustedOnly: 'Retrying a job',
      run: async (entry) => {
        if (!entry) return;
        const engine = await projects.get(entry.project)?.engine();
        await engine?.retry(entry.job.id);
      },
    },

    showLog: {
      args: args.none,
      run: async () => log.show(),
    },
  };
}
