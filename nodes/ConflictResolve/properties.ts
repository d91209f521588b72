import type { INodeProperties } from 'n8n-workflow';

export const properties: INodeProperties[] = [
	{
		displayName:
			'Input 1 takes the Conflicts output of Conflict Check; input 2 (optional) its Changes output: clean changes pass through resolved, with an audit.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Strategy',
		name: 'strategy',
		type: 'options',
		default: 'lastWriterWins',
		description:
			'How a conflict becomes one record. Set it from the data with an expression (lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview) to choose per run.',
		options: [
			{
				name: 'Field-Level Merge',
				value: 'fieldMerge',
				description:
					'Merge changes made on one side only; decide conflicting fields by the secondary rule',
			},
			{
				name: 'Last Writer Wins',
				value: 'lastWriterWins',
				description: 'Latest updated-at wins; ties broken by priority, then source, then name',
			},
			{
				name: 'Manual Review',
				value: 'manualReview',
				description: 'Send every conflict to the Needs Review output untouched',
			},
			{ name: 'Source Wins', value: 'sourceWins', description: 'The source system’s record wins' },
			{
				name: 'System Priority',
				value: 'systemPriority',
				description: 'The first system in the priority list that changed the record wins',
			},
		],
	},
	{
		displayName: 'Secondary Rule',
		name: 'secondaryRule',
		type: 'options',
		default: 'lastWriterWins',
		description:
			'Decides conflicting fields in a field-level merge, and any conflict the strategy cannot decide (source has no record, no listed system changed it)',
		options: [
			{
				name: 'Last Writer Wins',
				value: 'lastWriterWins',
				description: 'Latest updated-at wins; ties broken by priority, then source, then name',
			},
			{ name: 'Source Wins', value: 'sourceWins', description: 'The source system’s record wins' },
			{
				name: 'System Priority',
				value: 'systemPriority',
				description: 'The first system in the priority list that changed the record wins',
			},
		],
	},
	{
		displayName: 'System Priority',
		name: 'priority',
		type: 'string',
		default: '',
		placeholder: 'e.g. system_a, system_b, system_c',
		description:
			'Comma-separated system names, highest priority first. Used by System Priority, and to break updated-at ties.',
	},
	{
		displayName: 'Field Rules',
		name: 'fieldRules',
		type: 'fixedCollection',
		placeholder: 'Add Field Rule',
		default: {},
		typeOptions: { multipleValues: true },
		description: 'Rules for single fields where systems disagree; they apply under every strategy',
		options: [
			{
				displayName: 'Rule',
				name: 'rule',
				values: [
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						placeholder: 'e.g. balance',
					},
					{
						displayName: 'Rule',
						name: 'rule',
						type: 'options',
						default: 'max',
						options: [
							{
								name: 'Array Union',
								value: 'arrayUnion',
								description: 'Union of every system’s items, base first',
							},
							{
								name: 'Counter Merge',
								value: 'counter',
								description: 'Base plus every system’s delta, so concurrent increments all count',
							},
							{
								name: 'Last Writer Wins',
								value: 'lastWriterWins',
								description: 'The latest updated-at wins this field',
							},
							{ name: 'Maximum', value: 'max' },
							{ name: 'Minimum', value: 'min' },
							{
								name: 'Prefer Non-Empty',
								value: 'preferNonEmpty',
								description: 'The winning record’s value unless it is empty',
							},
							{ name: 'Source Wins', value: 'sourceWins', description: 'The source’s value wins' },
							{
								name: 'System Priority',
								value: 'systemPriority',
								description: 'The highest-priority system’s value wins',
							},
						],
					},
				],
			},
		],
	},
];

/** The canvas subtitle: the strategy's name as the panel shows it. */
const strategyNames = Object.fromEntries(
	(
		properties.find((p) => p.name === 'strategy')!.options as Array<{ name: string; value: string }>
	).map((o) => [o.value, o.name]),
);
export const subtitle = `(${JSON.stringify(strategyNames)})[$parameter["strategy"]] ?? $parameter["strategy"]`;
