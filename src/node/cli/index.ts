import { main } from './main.ts'

// `start` keeps running after main resolves (its server holds the event loop); other commands end.
const code = await main(process.argv.slice(2))
if (code !== 0) process.exit(code)
